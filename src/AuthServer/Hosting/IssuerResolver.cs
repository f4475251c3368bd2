using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

/// <summary>The issuer identifier (RFC 8414 §2) that every token and metadata document carries.</summary>
public sealed class IssuerResolver(IOptions<AuthServerOptions> options)
{
    private readonly string? _configured = options.Value.Issuer?.AbsoluteUri.TrimEnd('/');

    /// <summary>The configured issuer; in development without one, the origin the request came to.</summary>
    public string Resolve(HttpRequest request) =>
        _configured ?? $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}";
}
