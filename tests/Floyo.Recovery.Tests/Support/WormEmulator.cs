using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Web;
using System.Xml.Linq;

namespace Floyo.Recovery.Tests.Support;

/// <summary>
/// Azure's version-level WORM, which Azurite does not implement, emulated at the HTTP level in front of a
/// real Azurite so that the real SDK client and the real BlobStore code run unchanged. It keeps the policy
/// and legal hold the client asked for per blob, answers the immutability and legal-hold operations itself
/// (Azurite would answer 501), shows the state on properties and listings, and refuses overwrites and
/// deletes of protected blobs with 409 BlobImmutableDueToPolicy / BlobImmutableDueToLegalHold as Azure does.
/// </summary>
public sealed class WormEmulator(TimeProvider? clock = null) : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly ConcurrentDictionary<string, Protection> _state = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public sealed record Protection(DateTimeOffset? Until, string? Mode, bool LegalHold);

    /// <summary>When true, properties and listings do not show protection, so the store's own pre-check is bypassed and the service's 409 is what it meets.</summary>
    public bool HideProtectionOnRead { get; set; }

    public Protection? StateOf(string blobPathSuffix) =>
        _state.FirstOrDefault(p => p.Key.EndsWith("/" + blobPathSuffix, StringComparison.Ordinal)).Value;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var query = HttpUtility.ParseQueryString(request.RequestUri!.Query);
        var comp = query["comp"];
        var isContainer = query["restype"] == "container";
        var path = Uri.UnescapeDataString(request.RequestUri.AbsolutePath);

        if (isContainer && comp is null && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head))
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                response.Headers.TryAddWithoutValidation("x-ms-immutable-storage-with-versioning-enabled", "true");
            }
            return response;
        }
        if (isContainer && comp == "list")
        {
            return await DecorateListingAsync(await base.SendAsync(request, cancellationToken), path);
        }
        if (isContainer)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        switch (comp)
        {
            case "immutabilityPolicies" when request.Method == HttpMethod.Put:
            {
                var until = DateTimeOffset.Parse(Header(request, "x-ms-immutability-policy-until-date")!, CultureInfo.InvariantCulture);
                var mode = Header(request, "x-ms-immutability-policy-mode") ?? "Unlocked";
                var current = _state.GetValueOrDefault(path);
                if (current is { Mode: var m } && string.Equals(m, "locked", StringComparison.OrdinalIgnoreCase) && current.Until > until)
                {
                    return Error(HttpStatusCode.Conflict, "ImmutabilityPolicyExpiryShortened");
                }
                _state[path] = new Protection(until, mode, current?.LegalHold ?? false);
                var ok = Ok();
                ok.Headers.TryAddWithoutValidation("x-ms-immutability-policy-until-date", until.ToString("R", CultureInfo.InvariantCulture));
                ok.Headers.TryAddWithoutValidation("x-ms-immutability-policy-mode", mode.ToLowerInvariant());
                return ok;
            }
            case "immutabilityPolicies" when request.Method == HttpMethod.Delete:
            {
                if (_state.GetValueOrDefault(path) is { Mode: var m } current && string.Equals(m, "locked", StringComparison.OrdinalIgnoreCase))
                {
                    return Error(HttpStatusCode.Conflict, "ImmutabilityPolicyDeleteOnLockedPolicy");
                }
                _state.AddOrUpdate(path, new Protection(null, null, false), (_, c) => c with { Until = null, Mode = null });
                return Ok();
            }
            case "legalhold":
            {
                var hold = string.Equals(Header(request, "x-ms-legal-hold"), "true", StringComparison.OrdinalIgnoreCase);
                _state.AddOrUpdate(path, new Protection(null, null, hold), (_, c) => c with { LegalHold = hold });
                var ok = Ok();
                ok.Headers.TryAddWithoutValidation("x-ms-legal-hold", hold ? "true" : "false");
                return ok;
            }
        }

        var isWrite = request.Method == HttpMethod.Put && (comp == "blocklist" || comp is null && request.Headers.Contains("x-ms-blob-type"));
        if ((isWrite || request.Method == HttpMethod.Delete && comp is null) && Protected(path) is { } why)
        {
            return Error(HttpStatusCode.Conflict, why);
        }

        var result = await base.SendAsync(request, cancellationToken);
        if (isWrite && result.IsSuccessStatusCode)
        {
            var until = Header(request, "x-ms-immutability-policy-until-date");
            var hold = string.Equals(Header(request, "x-ms-legal-hold"), "true", StringComparison.OrdinalIgnoreCase);
            if (until is not null || hold)
            {
                _state[path] = new Protection(until is null ? null : DateTimeOffset.Parse(until, CultureInfo.InvariantCulture), Header(request, "x-ms-immutability-policy-mode"), hold);
            }
        }
        else if (request.Method == HttpMethod.Delete && comp is null && result.IsSuccessStatusCode)
        {
            _state.TryRemove(path, out _);
        }
        else if ((request.Method == HttpMethod.Head || request.Method == HttpMethod.Get) && comp is null && result.IsSuccessStatusCode
                 && !HideProtectionOnRead && _state.TryGetValue(path, out var state))
        {
            if (state.Until is { } until)
            {
                result.Headers.TryAddWithoutValidation("x-ms-immutability-policy-until-date", until.ToString("R", CultureInfo.InvariantCulture));
                result.Headers.TryAddWithoutValidation("x-ms-immutability-policy-mode", state.Mode?.ToLowerInvariant() ?? "unlocked");
            }
            result.Headers.TryAddWithoutValidation("x-ms-legal-hold", state.LegalHold ? "true" : "false");
        }
        return result;
    }

    private string? Protected(string path)
    {
        if (!_state.TryGetValue(path, out var state))
        {
            return null;
        }
        var policy = state.Until > _clock.GetUtcNow();
        return (policy, state.LegalHold) switch
        {
            (true, true) => "BlobImmutableDueToPolicyAndLegalHold",
            (true, false) => "BlobImmutableDueToPolicy",
            (false, true) => "BlobImmutableDueToLegalHold",
            _ => null,
        };
    }

    /// <summary>Adds the immutability fields Azure puts in each listed blob's &lt;Properties&gt;.</summary>
    private async Task<HttpResponseMessage> DecorateListingAsync(HttpResponseMessage response, string containerPath)
    {
        if (!response.IsSuccessStatusCode || HideProtectionOnRead)
        {
            return response;
        }
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var blob in xml.Descendants("Blob"))
        {
            var name = blob.Element("Name")?.Value;
            var properties = blob.Element("Properties");
            if (name is null || properties is null || !_state.TryGetValue($"{containerPath.TrimEnd('/')}/{name}", out var state))
            {
                continue;
            }
            if (state.Until is { } until)
            {
                properties.Add(new XElement("ImmutabilityPolicyUntilDate", until.ToString("R", CultureInfo.InvariantCulture)));
                properties.Add(new XElement("ImmutabilityPolicyMode", state.Mode?.ToLowerInvariant() ?? "unlocked"));
            }
            properties.Add(new XElement("LegalHold", state.LegalHold ? "true" : "false"));
        }
        var decorated = new HttpResponseMessage(response.StatusCode) { Content = new StringContent(xml.Declaration + xml.ToString(SaveOptions.DisableFormatting), Encoding.UTF8, "application/xml") };
        foreach (var header in response.Headers)
        {
            decorated.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        response.Dispose();
        return decorated;
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static HttpResponseMessage Ok()
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation("x-ms-request-id", Guid.NewGuid().ToString());
        response.Headers.TryAddWithoutValidation("x-ms-version", "2025-11-05");
        return response;
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string code)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent($"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>This operation is not permitted as the blob is immutable due to a policy.</Message></Error>", Encoding.UTF8, "application/xml"),
        };
        response.Headers.TryAddWithoutValidation("x-ms-error-code", code);
        response.Headers.TryAddWithoutValidation("x-ms-request-id", Guid.NewGuid().ToString());
        return response;
    }
}
