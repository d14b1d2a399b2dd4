using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Floyo.Recovery.Secrets;

namespace Floyo.Recovery.Tests.Secrets;

/// <summary>
/// An in-process Key Vault at the HTTP level, for driving the real <see cref="SecretClient"/>: the
/// secrets REST subset floyo-dr uses (set = new version, get latest or by version, list versions, list
/// secrets, update properties), versions with enabled flags and tags, paging with nextLink, and the
/// bearer challenge (a request without the expected token gets 401 and a WWW-Authenticate header).
/// </summary>
public sealed class FakeKeyVault : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Version>> _secrets = new(StringComparer.OrdinalIgnoreCase);

    public FakeKeyVault()
    {
        // A fresh host per vault: the SDK caches challenges per host, process-wide.
        VaultUri = new Uri($"https://floyo-test-{RandomNumberGenerator.GetHexString(10, lowercase: true)}.vault.azure.net/");
    }

    public Uri VaultUri { get; }

    public FakeCredential Credential { get; } = new();

    /// <summary>Versions per page in list answers; small, so the client must follow nextLink.</summary>
    public int PageSize { get; set; } = 2;

    /// <summary>When set, authenticated requests get 403 (the identity lacks an RBAC role).</summary>
    public bool DenyAll { get; set; }

    public int ChallengesSent { get; private set; }

    public int AuthorizedRequests { get; private set; }

    public List<string> Requests { get; } = [];

    public SecretClient Client() => new(VaultUri, Credential, new SecretClientOptions
    {
        Transport = new HttpClientTransport(this),
        DisableChallengeResourceVerification = true,
        Retry = { MaxRetries = 0 },
    });

    public KeyVaultSecretStore Store() => new(Client());

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(ct);
        lock (_gate)
        {
            Requests.Add($"{request.Method} {request.RequestUri!.AbsolutePath}");
            if (request.Headers.Authorization is not { Scheme: "Bearer" } auth || auth.Parameter != Credential.Token)
            {
                ChallengesSent++;
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = Error("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.") };
                challenge.Headers.TryAddWithoutValidation("WWW-Authenticate",
                    "Bearer authorization=\"https://login.microsoftonline.com/tenant\", resource=\"https://vault.azure.net\"");
                return challenge;
            }
            AuthorizedRequests++;
            if (DenyAll)
            {
                return new HttpResponseMessage(HttpStatusCode.Forbidden) { Content = Error("Forbidden", "Caller is not authorized to perform action on resource.") };
            }
            return Route(request.Method, request.RequestUri, body);
        }
    }

    private HttpResponseMessage Route(HttpMethod method, Uri uri, string body)
    {
        var segments = uri.AbsolutePath.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments[0] != "secrets")
        {
            return NotFound("BadRequest", "unknown path");
        }
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        if (string.IsNullOrEmpty(query["api-version"]))
        {
            return new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = Error("BadParameter", "api-version is required") };
        }
        var skip = int.TryParse(query["$skiptoken"], out var s) ? s : 0;
        return (method.Method, segments.Length) switch
        {
            ("GET", 1) => ListSecrets(skip),
            ("PUT", 2) => SetSecret(segments[1], body),
            ("GET", 2) => GetSecret(segments[1], null),
            ("GET", 3) when segments[2] == "versions" => ListVersions(segments[1], skip),
            ("GET", 3) => GetSecret(segments[1], segments[2]),
            ("PATCH", 3) => UpdateProperties(segments[1], segments[2], body),
            _ => new HttpResponseMessage(HttpStatusCode.MethodNotAllowed) { Content = Error("BadRequest", "unsupported") },
        };
    }

    private HttpResponseMessage SetSecret(string name, string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        var version = new Version
        {
            Id = RandomNumberGenerator.GetHexString(32, lowercase: true),
            Value = json["value"]?.GetValue<string>() ?? throw new InvalidOperationException("set without value"),
            ContentType = json["contentType"]?.GetValue<string>(),
            Enabled = json["attributes"]?["enabled"]?.GetValue<bool>() ?? true,
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Tags = ReadTags(json["tags"]),
        };
        version.Updated = version.Created;
        if (!_secrets.TryGetValue(name, out var versions))
        {
            _secrets[name] = versions = [];
        }
        versions.Add(version);
        return Ok(Bundle(name, version, includeValue: true));
    }

    private HttpResponseMessage GetSecret(string name, string? id)
    {
        if (!_secrets.TryGetValue(name, out var versions) || versions.Count == 0)
        {
            return NotFound("SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
        }
        var version = id is null ? versions[^1] : versions.FirstOrDefault(v => v.Id == id);
        if (version is null)
        {
            return NotFound("SecretNotFound", $"A secret with (name/id) {name}/{id} was not found in this key vault.");
        }
        if (!version.Enabled)
        {
            return new HttpResponseMessage(HttpStatusCode.Forbidden)
            {
                Content = Json(new JsonObject
                {
                    ["error"] = new JsonObject
                    {
                        ["code"] = "Forbidden",
                        ["message"] = "Operation get is not allowed on a disabled secret.",
                        ["innererror"] = new JsonObject { ["code"] = "SecretDisabled" },
                    },
                }),
            };
        }
        return Ok(Bundle(name, version, includeValue: true));
    }

    private HttpResponseMessage ListVersions(string name, int skip)
    {
        var versions = _secrets.TryGetValue(name, out var list) ? list : [];
        return Page(versions.Select(v => Bundle(name, v, includeValue: false)).ToList(), skip, $"secrets/{name}/versions");
    }

    private HttpResponseMessage ListSecrets(int skip)
    {
        var items = _secrets.Where(s => s.Value.Count > 0).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
        {
            var item = Bundle(s.Key, s.Value[^1], includeValue: false);
            item["id"] = new Uri(VaultUri, $"secrets/{s.Key}").ToString();
            return item;
        }).ToList();
        return Page(items, skip, "secrets");
    }

    private HttpResponseMessage UpdateProperties(string name, string id, string body)
    {
        var version = _secrets.TryGetValue(name, out var versions) ? versions.FirstOrDefault(v => v.Id == id) : null;
        if (version is null)
        {
            return NotFound("SecretNotFound", $"A secret with (name/id) {name}/{id} was not found in this key vault.");
        }
        var json = JsonNode.Parse(body)!.AsObject();
        if (json["attributes"]?["enabled"] is { } enabled)
        {
            version.Enabled = enabled.GetValue<bool>();
        }
        if (json.ContainsKey("tags"))
        {
            version.Tags = ReadTags(json["tags"]);
        }
        if (json["contentType"] is { } contentType)
        {
            version.ContentType = contentType.GetValue<string>();
        }
        version.Updated = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Ok(Bundle(name, version, includeValue: false));
    }

    private HttpResponseMessage Page(List<JsonObject> items, int skip, string path)
    {
        var page = new JsonArray([.. items.Skip(skip).Take(PageSize)]);
        var result = new JsonObject { ["value"] = page };
        result["nextLink"] = skip + PageSize < items.Count ? new Uri(VaultUri, $"{path}?api-version=7.6&$skiptoken={skip + PageSize}").ToString() : null;
        return Ok(result);
    }

    private JsonObject Bundle(string name, Version v, bool includeValue)
    {
        var tags = new JsonObject();
        foreach (var (key, value) in v.Tags)
        {
            tags[key] = value;
        }
        var bundle = new JsonObject
        {
            ["id"] = new Uri(VaultUri, $"secrets/{name}/{v.Id}").ToString(),
            ["attributes"] = new JsonObject
            {
                ["enabled"] = v.Enabled,
                ["created"] = v.Created,
                ["updated"] = v.Updated,
                ["recoveryLevel"] = "Recoverable+Purgeable",
                ["recoverableDays"] = 90,
            },
            ["tags"] = tags,
        };
        if (v.ContentType is not null)
        {
            bundle["contentType"] = v.ContentType;
        }
        if (includeValue)
        {
            bundle["value"] = v.Value;
        }
        return bundle;
    }

    private static Dictionary<string, string> ReadTags(JsonNode? node) =>
        node is JsonObject o ? o.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal) : new(StringComparer.Ordinal);

    private static HttpResponseMessage Ok(JsonObject body) => new(HttpStatusCode.OK) { Content = Json(body) };

    private static HttpResponseMessage NotFound(string code, string message) => new(HttpStatusCode.NotFound) { Content = Error(code, message) };

    private static StringContent Error(string code, string message) => Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>Every value the vault has ever held, for tests that search output for secrets.</summary>
    public IReadOnlyList<string> AllValues()
    {
        lock (_gate)
        {
            return [.. _secrets.Values.SelectMany(v => v).Select(v => v.Value)];
        }
    }

    private sealed class Version
    {
        public string Id { get; init; } = "";
        public string Value { get; init; } = "";
        public string? ContentType { get; set; }
        public bool Enabled { get; set; }
        public long Created { get; init; }
        public long Updated { get; set; }
        public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);
    }
}

/// <summary>A token credential that hands out one opaque token and records what it was asked for.</summary>
public sealed class FakeCredential : TokenCredential
{
    public string Token { get; } = "fake-token-" + RandomNumberGenerator.GetHexString(16, lowercase: true);

    public List<TokenRequestContext> Requests { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(requestContext);
        }
        return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
