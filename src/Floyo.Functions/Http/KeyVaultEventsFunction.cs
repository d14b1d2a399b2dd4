using Floyo.Functions.Rotation;
using Floyo.Recovery;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Secrets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Floyo.Functions.Http;

/// <summary>What the webhook did with one event.</summary>
public sealed record EventOutcome(string Id, string Type, string? Secret, string Outcome, string? Reason = null);

/// <summary>
/// Key Vault's events, delivered by an Event Grid subscription to this webhook (the Event Grid trigger extension
/// is not used, so the function speaks the webhook protocol itself): it answers the subscription handshake
/// (Event Grid's validation event, or the CloudEvents OPTIONS request), and when a secret floyo-dr rotates is
/// near expiry or expired, it starts the credential rotation under the same fixed instance id as the monthly
/// timer. Events for other secrets, other vaults, versions already replaced, or of other types get 200 and are
/// ignored. A malformed delivery gets 400 (Event Grid does not retry those); when the secret store cannot be
/// read the answer is 503, and Event Grid retries.
/// </summary>
public sealed partial class KeyVaultEventsFunction(
    CredentialRotationStarter starter,
    ISecretStore store,
    IOptions<RotationOptions> rotation,
    IOptions<SecretOptions> secrets,
    ILogger<KeyVaultEventsFunction> logger)
{
    public const string Route = "events/keyvault";

    [Function("KeyVaultEvents")]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", "options", Route = Route)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsOptions(request.Method))
        {
            return Handshake(request);
        }
        var body = await ReadAsync(request, ct);
        if (body is null)
        {
            return ApiResults.Error(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {EventGridEvents.MaxBytes} bytes");
        }
        var (events, error) = EventGridEvents.Parse(body);
        if (events is null)
        {
            LogMalformed(logger, error!);
            return ApiResults.BadRequest(error!);
        }

        // Event Grid sends the validation event alone, before any other delivery.
        if (events.FirstOrDefault(e => e.Type == EventGridEvents.SubscriptionValidation) is { } validation)
        {
            if (validation.DataString("validationCode") is not { } code)
            {
                return ApiResults.BadRequest("the subscription validation event has no data.validationCode");
            }
            LogValidated(logger, validation.Source ?? "?");
            return ApiResults.Json(StatusCodes.Status200OK, new { validationResponse = code });
        }

        var outcomes = new List<EventOutcome>();
        var rotate = new List<EventOutcome>();
        foreach (var e in events)
        {
            if (e.Type is not (EventGridEvents.SecretNearExpiry or EventGridEvents.SecretExpired))
            {
                outcomes.Add(new EventOutcome(e.Id, e.Type, null, "ignored", "not a secret near-expiry or expired event"));
                continue;
            }
            // Key Vault's subject is the secret's name; take the last segment should it ever be a path.
            var secret = e.DataString("ObjectName") ?? e.Subject?.Split('/')[^1];
            if (secret is null)
            {
                return ApiResults.BadRequest($"event {e.Id} ({e.Type}) names no secret (data.ObjectName or subject)");
            }
            string? reason;
            try
            {
                reason = await WhyNotRotateAsync(e, secret, ct);
            }
            catch (RecoveryException problem)
            {
                // Key Vault unreachable or refusing: let Event Grid try again later rather than drop the event.
                LogStoreUnavailable(logger, e.Id, problem.Message);
                return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, $"could not check secret '{secret}': {problem.Message}");
            }
            var outcome = new EventOutcome(e.Id, e.Type, secret, reason is null ? "rotate" : "ignored", reason);
            (reason is null ? rotate : outcomes).Add(outcome);
            if (reason is not null)
            {
                LogIgnored(logger, e.Id, e.Type, secret, reason);
            }
        }

        RotationStart? start = null;
        if (rotate.Count > 0)
        {
            // One rotation covers every managed secret, however many events asked for it.
            start = await starter.StartAsync(client, $"Key Vault {rotate[0].Type} for {rotate[0].Secret}", ct);
            var what = start.Started ? "rotation-started" : "rotation-already-running";
            outcomes.AddRange(rotate.Select(r => r with { Outcome = what }));
        }
        return ApiResults.Json(StatusCodes.Status200OK, new { rotation = start, events = outcomes });
    }

    /// <summary>Null when the event is about the current version of a secret floyo-dr rotates; else why it is ignored.</summary>
    private async Task<string?> WhyNotRotateAsync(GridEvent e, string secret, CancellationToken ct)
    {
        if (e.DataString("ObjectType") is { } type && !type.Equals("Secret", StringComparison.OrdinalIgnoreCase))
        {
            return $"object type {type} is not a secret";
        }
        if (VaultName() is { } ours && (e.DataString("VaultName") ?? LastSegment(e.Source)) is { } theirs && !theirs.Equals(ours, StringComparison.OrdinalIgnoreCase))
        {
            return $"vault {theirs} is not this app's vault ({ours})";
        }
        if (!IsSecretName(secret))
        {
            return "not a valid secret name";
        }
        // The store's own notion of current, not the newest by creation time: versions made within one
        // second (a rotation publishes quickly) sort ambiguously by time.
        if ((await store.GetCurrentAsync(secret, ct))?.Properties is not { } current)
        {
            return "the secret does not exist in the store";
        }
        if (secret != rotation.Value.Secret && current.Tag(SecretTags.Rotation) != SecretTags.Random)
        {
            return $"not rotated by floyo-dr (neither {rotation.Value.Secret} nor tagged {SecretTags.Rotation}={SecretTags.Random})";
        }
        if (e.DataString("Version") is { } version && !version.Equals(current.Version, StringComparison.OrdinalIgnoreCase))
        {
            return $"version {version} is no longer the current one ({current.Version}): already rotated";
        }
        return null;
    }

    /// <summary>CloudEvents 1.0 abuse protection: Event Grid asks, with OPTIONS, whether it may deliver here.</summary>
    private static IActionResult Handshake(HttpRequest request)
    {
        var origin = ((string?)request.Headers["WebHook-Request-Origin"])?.Trim();
        if (string.IsNullOrEmpty(origin) || origin.Length > 255 || origin.Any(char.IsControl))
        {
            return ApiResults.BadRequest("an OPTIONS request must carry a WebHook-Request-Origin header (CloudEvents webhook validation)");
        }
        request.HttpContext.Response.Headers["WebHook-Allowed-Origin"] = origin;
        request.HttpContext.Response.Headers["WebHook-Allowed-Rate"] = "*";
        request.HttpContext.Response.Headers.Allow = "POST, OPTIONS";
        return new OkResult();
    }

    private static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > EventGridEvents.MaxBytes)
            {
                return null;
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The vault's name from KEY_VAULT_URI (https://name.vault.azure.net/), when one is configured.</summary>
    private string? VaultName() =>
        Uri.TryCreate(secrets.Value.KeyVaultUri, UriKind.Absolute, out var uri) ? uri.Host.Split('.')[0] : null;

    private static string? LastSegment(string? resourceId) =>
        resourceId?.TrimEnd('/').Split('/') is { Length: > 1 } parts && resourceId.Contains("/vaults/", StringComparison.OrdinalIgnoreCase) ? parts[^1] : null;

    private static bool IsSecretName(string name)
    {
        try
        {
            SecretName.Check(name);
            return true;
        }
        catch (RecoveryException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 5530, Level = LogLevel.Information, Message = "Event Grid subscription validated for {Source}")]
    private static partial void LogValidated(ILogger logger, string source);

    [LoggerMessage(EventId = 5531, Level = LogLevel.Information, Message = "Key Vault event {EventId} ({Type}) for {Secret} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string eventId, string type, string secret, string reason);

    [LoggerMessage(EventId = 5532, Level = LogLevel.Warning, Message = "Malformed Event Grid delivery refused: {Error}")]
    private static partial void LogMalformed(ILogger logger, string error);

    [LoggerMessage(EventId = 5533, Level = LogLevel.Error, Message = "Key Vault event {EventId}: the secret store could not be read ({Error}); Event Grid will retry")]
    private static partial void LogStoreUnavailable(ILogger logger, string eventId, string error);
}
