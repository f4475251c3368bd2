namespace AuthServer.DeviceFlow;

/// <summary>
/// The lifecycle of a login request. Stored; "expired" is not a stored status but derived from the clock
/// (<see cref="DeviceAuthorizationTransitions.IsExpired"/>), so no background job has to race the user.
/// </summary>
public enum DeviceAuthorizationStatus
{
    /// <summary>Waiting for a phone to scan the QR code (or a user to type the code).</summary>
    Pending,

    /// <summary>An account opened the request and claimed it (RFC 8628 §5.5); waiting for its decision.</summary>
    Scanned,

    /// <summary>The claiming account approved; the waiting screen may redeem the device code once.</summary>
    Approved,

    /// <summary>The claiming account denied (RFC 8628 §3.5 <c>access_denied</c>).</summary>
    Denied,

    /// <summary>The device code was exchanged for tokens. Terminal.</summary>
    Redeemed,

    /// <summary>The waiting screen replaced this request with a fresh one (QR rotation). Terminal.</summary>
    Superseded,
}

/// <summary>The explicit state machine of <see cref="DeviceAuthorizationStatus"/>.</summary>
public static class DeviceAuthorizationTransitions
{
    /// <summary>Whether <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    public static bool IsAllowed(DeviceAuthorizationStatus from, DeviceAuthorizationStatus to) => (from, to) switch
    {
        (DeviceAuthorizationStatus.Pending, DeviceAuthorizationStatus.Scanned) => true,
        (DeviceAuthorizationStatus.Scanned, DeviceAuthorizationStatus.Approved) => true,
        (DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned, DeviceAuthorizationStatus.Denied) => true,
        (DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned, DeviceAuthorizationStatus.Superseded) => true,
        (DeviceAuthorizationStatus.Approved, DeviceAuthorizationStatus.Redeemed) => true,
        _ => false,
    };

    /// <summary>The states from which <paramref name="to"/> can be reached.</summary>
    public static DeviceAuthorizationStatus[] SourcesOf(DeviceAuthorizationStatus to) =>
        Enum.GetValues<DeviceAuthorizationStatus>().Where(from => IsAllowed(from, to)).ToArray();

    /// <summary>
    /// A request that has not finished expires with its device code (RFC 8628 §3.2 <c>expires_in</c>). Finished
    /// requests (redeemed, denied, superseded) keep their own status: it says more than "expired".
    /// </summary>
    public static bool IsExpired(DeviceAuthorizationStatus status, DateTimeOffset expiresAt, DateTimeOffset now) =>
        status is DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned or DeviceAuthorizationStatus.Approved
        && now >= expiresAt;

    /// <summary>Final: no transition leads anywhere from it (redeemed, denied, superseded).</summary>
    public static bool IsFinal(DeviceAuthorizationStatus status) =>
        !Enum.GetValues<DeviceAuthorizationStatus>().Any(to => IsAllowed(status, to));

    /// <summary>Live means a user can still act on it.</summary>
    public static bool IsOpen(DeviceAuthorizationStatus status) =>
        status is DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned;
}
