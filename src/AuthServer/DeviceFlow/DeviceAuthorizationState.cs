using AuthServer.Data.Entities;

namespace AuthServer.DeviceFlow;

/// <summary>An immutable snapshot of a login request, as held in memory and handed to pages and endpoints.</summary>
public sealed record DeviceAuthorizationState(
    string Id,
    string UserCode,
    string ClientId,
    string Scope,
    string? DeviceName,
    string? RequesterIp,
    string? RequesterUserAgent,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    int IntervalSeconds,
    DeviceAuthorizationStatus Status,
    int Version,
    string? SubjectId,
    DateTimeOffset? DecidedAt,
    int? MatchNumber,
    string? DpopJkt)
{
    public static DeviceAuthorizationState From(DeviceAuthorization entity) => new(
        entity.Id, entity.UserCode, entity.ClientId, entity.Scope, entity.DeviceName, entity.RequesterIp,
        entity.RequesterUserAgent, entity.CreatedAt, entity.ExpiresAt, entity.IntervalSeconds, entity.Status,
        entity.Version, entity.SubjectId, entity.DecidedAt, entity.MatchNumber, entity.DpopJkt);

    public bool IsExpired(DateTimeOffset now) => DeviceAuthorizationTransitions.IsExpired(Status, ExpiresAt, now);

    /// <summary>
    /// Of a request no longer open: whether it ran out (expired, or replaced by the screen's newer code) rather than
    /// being decided. The phone and the verification page tell people the two apart: a new code, or "already used".
    /// </summary>
    public bool RanOut(DateTimeOffset now) => IsExpired(now) || Status == DeviceAuthorizationStatus.Superseded;

    /// <summary>Whether a user can still scan, approve or deny it.</summary>
    public bool IsOpen(DateTimeOffset now) => DeviceAuthorizationTransitions.IsOpen(Status) && !IsExpired(now);

    /// <summary>
    /// A request bound to a DPoP key at its start accepts only proofs from that key (polling, the push stream,
    /// redemption, being superseded): a leaked device code is useless without the screen's private key.
    /// </summary>
    public bool AcceptsProofFrom(string? jkt) => DpopJkt is null || jkt == DpopJkt;

    public string[] Scopes => Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
