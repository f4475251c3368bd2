using AuthServer.Tokens;

namespace AuthServer.Protocol;

/// <summary><c>GET /.well-known/jwks</c>: the public signing keys as a JWK Set (RFC 7517 §5).</summary>
public static class Jwks
{
    public const string Path = "/.well-known/jwks";

    public static IResult Handle(HttpContext context, SigningKeyStore keys)
    {
        // Short caching: a newly published key reaches verifiers within minutes.
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Text(keys.JwksJson, "application/jwk-set+json");
    }
}
