using AuthServer.Hosting;

namespace AuthServer.Tokens;

/// <summary>
/// A proof's <c>htu</c> names our issuer's origin (RFC 9449 §4.3 step 9), not whatever host this node was reached at
/// behind a proxy: the same URL the metadata advertises for the endpoint.
/// </summary>
public sealed class IssuerDpopRequestUri(IssuerResolver issuers) : IDpopRequestUri
{
    public string For(HttpRequest request) => issuers.Resolve(request) + request.Path;
}

/// <summary>Server nonces are keyed by a secret derived from the shared signing key, so every node accepts every node's.</summary>
public sealed class SigningKeyNonceKeySource(SigningKeyStore keys) : IDpopNonceKeySource
{
    public byte[] NonceKey => keys.NonceKey;
}
