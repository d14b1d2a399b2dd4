using System.Net;
using System.Text;

namespace Floyo.Recovery.Tests.Support;

/// <summary>Answers matching requests with an error instead of forwarding them, while <see cref="Enabled"/>.</summary>
public sealed class FailRequests(Func<HttpRequestMessage, bool> match, HttpStatusCode status = HttpStatusCode.Forbidden) : DelegatingHandler(new SocketsHttpHandler())
{
    public bool Enabled { get; set; } = true;

    public int Failed { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!Enabled || !match(request))
        {
            return base.SendAsync(request, cancellationToken);
        }
        Failed++;
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationFailure</Code><Message>injected</Message></Error>", Encoding.UTF8, "application/xml"),
        };
        response.Headers.TryAddWithoutValidation("x-ms-error-code", "AuthorizationFailure");
        return Task.FromResult(response);
    }
}
