using Microsoft.AspNetCore.Http;

namespace AuthServer.Dpop;

/// <summary>
/// The URI a proof's <c>htu</c> must name for a request (RFC 9449 §4.3 step 9): the one the client called, which is
/// not always the one this process sees (a configured issuer, a reverse proxy).
/// </summary>
public interface IDpopRequestUri
{
    string For(HttpRequest request);
}

/// <summary>The request's own URI without query: scheme, host, port, path base and path.</summary>
public sealed class RequestDpopUri : IDpopRequestUri
{
    public string For(HttpRequest request) =>
        $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}{request.Path.Value}";
}
