namespace AuthServer.Data.Entities;

/// <summary>
/// How often a refresh token was presented, and what it was rotated into. OpenIddict accepts a rotated token again
/// within the reuse leeway (a lost response) as often as it comes; we accept one such retry
/// (<see cref="Handlers.RefreshReuseHandlers"/>). Kept beside OpenIddict's token row rather than in it: OpenIddict
/// writes its whole row back on every status change, which would undo a counter kept there.
/// </summary>
public sealed class RefreshTokenUse
{
    /// <summary>OpenIddict's token id.</summary>
    public required string TokenId { get; set; }

    public int Presentations { get; set; }

    /// <summary>The refresh token this one was rotated into; a retry within the leeway replaces it.</summary>
    public string? SuccessorId { get; set; }
}
