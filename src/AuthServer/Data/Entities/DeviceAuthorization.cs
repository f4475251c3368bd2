using AuthServer.DeviceFlow;

namespace AuthServer.Data.Entities;

/// <summary>
/// One login request of a waiting screen: the server side of an RFC 8628 device authorization.
/// Its lifecycle is the single <see cref="Status"/> field; <see cref="DeviceAuthorizationTransitions"/> lists the moves.
/// </summary>
public sealed class DeviceAuthorization
{
    public required string Id { get; set; }

    /// <summary>SHA-256 of the device code (base64url). The device code itself is a bearer secret and is never stored.</summary>
    public required string DeviceCodeHash { get; set; }

    /// <summary>The normalized user code: 8 characters of the RFC 8628 §6.1 base-20 alphabet, no separator.</summary>
    public required string UserCode { get; set; }

    public required string ClientId { get; set; }

    /// <summary>The granted scopes, space separated (RFC 6749 §3.3).</summary>
    public required string Scope { get; set; }

    /// <summary>What the waiting screen calls itself. Self-reported, so shown as such.</summary>
    public string? DeviceName { get; set; }
    public string? RequesterIp { get; set; }
    public string? RequesterUserAgent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>
    /// The polling interval the screen must keep now: the client's, plus 5 seconds per <c>slow_down</c> (RFC 8628
    /// §3.5). Raised in the row only on PostgreSQL, where every node must give the same answer; on SQLite (one node)
    /// the raised interval is kept in memory (<see cref="LiveRequest"/>).
    /// </summary>
    public int IntervalSeconds { get; set; }

    /// <summary>When the screen last polled while the request was pending: PostgreSQL's polling bookkeeping, as above.</summary>
    public DateTimeOffset? LastPolledAt { get; set; }

    public DeviceAuthorizationStatus Status { get; set; }

    /// <summary>Counts transitions; bumped by every status change.</summary>
    public int Version { get; set; }

    /// <summary>The account that scanned (claimed) the request, RFC 8628 §5.5.</summary>
    public string? SubjectId { get; set; }

    public DateTimeOffset? ScannedAt { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public DateTimeOffset? RedeemedAt { get; set; }

    /// <summary>The waiting screen's linked device, created when the code is redeemed.</summary>
    public string? LinkedDeviceId { get; set; }

    /// <summary>The 2-digit number the screen shows and the phone must pick, for number-matching clients.</summary>
    public int? MatchNumber { get; set; }

    /// <summary>
    /// The request was denied because an approval came without the screen's number (RFC 8628 §5.4), rather than by a
    /// deny: the audit log tells the two apart.
    /// </summary>
    public bool WrongNumber { get; set; }

    /// <summary>
    /// SHA-256 of the one-time confirm ticket the phone API handed to the scanning phone; approve and deny must present
    /// it. A new scan by the same account replaces it; using it clears it.
    /// </summary>
    public string? ConfirmTicketHash { get; set; }
    public DateTimeOffset? ConfirmTicketExpiresAt { get; set; }

    /// <summary>The scanning phone's own device id: the ticket only works with a token of that phone.</summary>
    public string? ConfirmTicketDeviceId { get; set; }

    /// <summary>
    /// The JWK thumbprint of the waiting screen's DPoP key, when it bound the request at the start (RFC 9449 §10 by
    /// analogy): polling, the push stream and redemption then need a proof from that key.
    /// </summary>
    public string? DpopJkt { get; set; }
}
