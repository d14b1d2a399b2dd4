using System.Net.Http.Json;
using System.Text.Json;
using Floyo.Recovery.Configuration;
using Microsoft.Extensions.Options;

namespace Floyo.Recovery.Notifications;

/// <summary>What the status page took: the delivery, and the page's own id of the incident when it answered with one.</summary>
public sealed record StatusPageDelivery(ChannelDelivery Delivery, string? RemoteId);

/// <summary>
/// Posts the public status to a status-page webhook (INCIDENT_STATUSPAGE_URL), in Atlassian Statuspage's shape:
/// <c>{"incident":{"name","status","body"}}</c> with <c>Authorization</c> from INCIDENT_STATUSPAGE_AUTHORIZATION.
/// Statuspage answers a new incident with its <c>id</c>; later posts for it go as a PATCH to <c>&lt;url&gt;/&lt;id&gt;</c>
/// (Statuspage's update call). A receiver that answers without an id gets every post at the URL. Never throws for
/// a page that is down; the URL and the authorization appear in no error.
/// </summary>
public sealed class StatusPagePoster(HttpClient http, IOptions<IncidentOptions> options, IOptions<NotificationOptions> timeouts)
{
    public const string Channel = "statuspage";

    public bool Configured => options.Value.StatusPage is not null;

    /// <param name="status">Statuspage's incident status: investigating, identified, monitoring or resolved.</param>
    public async Task<StatusPageDelivery?> PostAsync(string name, string status, string body, string? remoteId, CancellationToken ct)
    {
        if (options.Value.StatusPage is not { } url)
        {
            return null;
        }
        var target = remoteId is null ? url : new Uri($"{url.ToString().TrimEnd('/')}/{Uri.EscapeDataString(remoteId)}");
        using var request = new HttpRequestMessage(remoteId is null ? HttpMethod.Post : HttpMethod.Patch, target)
        {
            Content = JsonContent.Create(new { incident = new { name, status, body } }),
        };
        if (!string.IsNullOrWhiteSpace(options.Value.StatusPageAuthorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", options.Value.StatusPageAuthorization.Trim());
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeouts.Value.TimeoutSeconds));
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return new StatusPageDelivery(new ChannelDelivery(Channel, false, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}"), remoteId);
            }
            return new StatusPageDelivery(new ChannelDelivery(Channel, true), remoteId ?? await IdAsync(response, timeout.Token));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new StatusPageDelivery(new ChannelDelivery(Channel, false, $"no answer within {timeouts.Value.TimeoutSeconds:F0} s"), remoteId);
        }
        catch (HttpRequestException e)
        {
            return new StatusPageDelivery(new ChannelDelivery(Channel, false, $"unreachable ({e.HttpRequestError})"), remoteId);
        }
    }

    private static async Task<string?> IdAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            using var json = JsonDocument.Parse(text);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
