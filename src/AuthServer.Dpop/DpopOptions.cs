namespace AuthServer.Dpop;

/// <summary>How DPoP proofs are checked. The authorization server binds it to its <c>Dpop</c> configuration section.</summary>
public sealed class DpopOptions
{
    public const string Section = "Dpop";

    /// <summary>
    /// RFC 9449 §8: proofs must carry a fresh server nonce, so a proof cannot be made ahead of time. A resource server
    /// that leaves nonces to the authorization server turns this off (§9 makes them optional there).
    /// </summary>
    public bool RequireNonce { get; set; } = true;

    /// <summary>How far a proof's <c>iat</c> may be from our clock, either way (RFC 9449 §11.1).</summary>
    public TimeSpan ProofLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many proof ids the replay cache holds at most, per process. When it is full of proofs that could still
    /// pass the <c>iat</c> check, new proofs are refused until some of them age out.
    /// </summary>
    public int ReplayCacheSize { get; set; } = 100_000;

    /// <summary>
    /// The proof algorithms accepted, a subset of <see cref="DpopProofValidator.Algorithms"/>; none set means
    /// all of them. A host advertises exactly these (the <c>algs</c> of its challenge, RFC 9449 §7.1, or its
    /// <c>dpop_signing_alg_values_supported</c>, §5.1).
    /// </summary>
    public string[]? Algorithms { get; set; }
}
