using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AuthServer.Hosting;

/// <summary>
/// Our own instruments, in one meter named <see cref="MeterName"/> (docs/operations.md#telemetry lists them). Every
/// tag set is a static array built once, so counting a poll allocates nothing; with no listener (no exporter
/// configured) an <c>Add</c> is a field check. The meter comes from the host's <see cref="IMeterFactory"/>, so each
/// server in one process (the tests run many) has its own.
/// </summary>
public sealed class AuthServerMetrics
{
    public const string MeterName = "AuthServer";

    private readonly Counter<long> _deviceAuthorizations;
    private readonly Counter<long> _scans;
    private readonly Counter<long> _approvals;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _polls;
    private readonly Counter<long> _tokensIssued;
    private readonly Counter<long> _refreshTokenReuse;
    private readonly Counter<long> _rateLimitHits;
    private readonly UpDownCounter<long> _openPushStreams;

    public AuthServerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _deviceAuthorizations = meter.CreateCounter<long>("authserver.device_authorizations", "{request}",
            "Login requests started at the device authorization endpoint (RFC 8628 §3.1).");
        _scans = meter.CreateCounter<long>("authserver.scans", "{scan}",
            "Scans of a login request by a signed-in account, by door (page, phone) and outcome.");
        _approvals = meter.CreateCounter<long>("authserver.approvals", "{decision}", "Login requests approved, by door.");
        _denials = meter.CreateCounter<long>("authserver.denials", "{decision}",
            "Login requests denied, by door and reason (user, wrong_number).");
        _polls = meter.CreateCounter<long>("authserver.polls", "{poll}",
            "Device code polls at the token endpoint (RFC 8628 §3.5), by result.");
        _tokensIssued = meter.CreateCounter<long>("authserver.tokens_issued", "{response}",
            "Successful token responses, by grant type.");
        _refreshTokenReuse = meter.CreateCounter<long>("authserver.refresh_token_reuse", "{event}",
            "Rotated refresh tokens presented again (RFC 9700 §4.14.2); each logs a device out.");
        _rateLimitHits = meter.CreateCounter<long>("authserver.rate_limit_hits", "{request}",
            "Requests refused by a limit, by limiter.");
        _openPushStreams = meter.CreateUpDownCounter<long>("authserver.push_streams.open", "{stream}",
            "Push streams (POST /connect/device/events) open now on this node.");
    }

    public static class Doors
    {
        public const string Page = "page";
        public const string Phone = "phone";
    }

    /// <summary>What a poll of the token endpoint was answered (RFC 8628 §3.5), in the order of the tags below.</summary>
    public enum PollResult { Pending, SlowDown, Approved, Denied, Expired, Superseded, Redeemed }

    private static KeyValuePair<string, object?>[] Tag(string name, string value) => [new(name, value)];

    private static KeyValuePair<string, object?>[] Tags(string name1, string value1, string name2, string value2) =>
        [new(name1, value1), new(name2, value2)];

    private static readonly KeyValuePair<string, object?>[] PageScanClaimed = Tags("door", Doors.Page, "outcome", "claimed");
    private static readonly KeyValuePair<string, object?>[] PageScanTaken = Tags("door", Doors.Page, "outcome", "claimed_by_another_account");
    private static readonly KeyValuePair<string, object?>[] PageScanClosed = Tags("door", Doors.Page, "outcome", "not_open");
    private static readonly KeyValuePair<string, object?>[] PhoneScanClaimed = Tags("door", Doors.Phone, "outcome", "claimed");
    private static readonly KeyValuePair<string, object?>[] PhoneScanTaken = Tags("door", Doors.Phone, "outcome", "claimed_by_another_account");
    private static readonly KeyValuePair<string, object?>[] PhoneScanClosed = Tags("door", Doors.Phone, "outcome", "not_open");
    private static readonly KeyValuePair<string, object?>[] PageDoor = Tag("door", Doors.Page);
    private static readonly KeyValuePair<string, object?>[] PhoneDoor = Tag("door", Doors.Phone);
    private static readonly KeyValuePair<string, object?>[] PageDeniedByUser = Tags("door", Doors.Page, "reason", "user");
    private static readonly KeyValuePair<string, object?>[] PageWrongNumber = Tags("door", Doors.Page, "reason", "wrong_number");
    private static readonly KeyValuePair<string, object?>[] PhoneDeniedByUser = Tags("door", Doors.Phone, "reason", "user");
    private static readonly KeyValuePair<string, object?>[] PhoneWrongNumber = Tags("door", Doors.Phone, "reason", "wrong_number");

    /// <summary>The tags of each <see cref="PollResult"/>, indexed by it: a poll's count is an array read.</summary>
    private static readonly KeyValuePair<string, object?>[][] PollTags =
    [
        Tag("result", "pending"), Tag("result", "slow_down"), Tag("result", "approved"), Tag("result", "denied"),
        Tag("result", "expired"), Tag("result", "superseded"), Tag("result", "redeemed"),
    ];

    /// <summary>The grant types a token response can follow, by their short names (the device code's URN is long).</summary>
    private static readonly Dictionary<string, KeyValuePair<string, object?>[]> GrantTags = new(StringComparer.Ordinal)
    {
        [OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.DeviceCode] = Tag("grant_type", "device_code"),
        [OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.AuthorizationCode] = Tag("grant_type", "authorization_code"),
        [OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.RefreshToken] = Tag("grant_type", "refresh_token"),
        [OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.ClientCredentials] = Tag("grant_type", "client_credentials"),
    };

    private static readonly KeyValuePair<string, object?>[] OtherGrant = Tag("grant_type", "other");
    private static readonly KeyValuePair<string, object?>[] ReuseBeyondRetry = Tag("when", "beyond_retry");
    private static readonly KeyValuePair<string, object?>[] ReuseAfterLeeway = Tag("when", "after_leeway");
    private static readonly KeyValuePair<string, object?>[] UserCodeLimiter = Tag("limiter", "user_code");
    private static readonly KeyValuePair<string, object?>[] DeviceAuthorizationLimiter = Tag("limiter", "device_authorization");
    private static readonly KeyValuePair<string, object?>[] TokenLimiter = Tag("limiter", "token");

    public void DeviceAuthorizationStarted() => _deviceAuthorizations.Add(1);

    public void Scanned(bool phone, DeviceFlow.ScanOutcome outcome) => _scans.Add(1, (phone, outcome) switch
    {
        (false, DeviceFlow.ScanOutcome.Claimed) => PageScanClaimed,
        (false, DeviceFlow.ScanOutcome.ClaimedByAnotherAccount) => PageScanTaken,
        (false, _) => PageScanClosed,
        (true, DeviceFlow.ScanOutcome.Claimed) => PhoneScanClaimed,
        (true, DeviceFlow.ScanOutcome.ClaimedByAnotherAccount) => PhoneScanTaken,
        (true, _) => PhoneScanClosed,
    });

    public void Decided(bool phone, DeviceFlow.DecisionOutcome outcome)
    {
        switch (outcome)
        {
            case DeviceFlow.DecisionOutcome.Approved:
                _approvals.Add(1, phone ? PhoneDoor : PageDoor);
                break;
            case DeviceFlow.DecisionOutcome.Denied:
                _denials.Add(1, phone ? PhoneDeniedByUser : PageDeniedByUser);
                break;
            case DeviceFlow.DecisionOutcome.WrongNumber:
                _denials.Add(1, phone ? PhoneWrongNumber : PageWrongNumber);
                break;
        }
    }

    public void Polled(PollResult result) => _polls.Add(1, PollTags[(int)result]);

    public void TokensIssued(string? grantType) =>
        _tokensIssued.Add(1, grantType is not null && GrantTags.TryGetValue(grantType, out var tags) ? tags : OtherGrant);

    public void RefreshTokenReused(bool afterLeeway) => _refreshTokenReuse.Add(1, afterLeeway ? ReuseAfterLeeway : ReuseBeyondRetry);

    public void UserCodeLookupRefused() => _rateLimitHits.Add(1, UserCodeLimiter);

    public void DeviceAuthorizationRefused() => _rateLimitHits.Add(1, DeviceAuthorizationLimiter);

    public void TokenRequestRefused() => _rateLimitHits.Add(1, TokenLimiter);

    public void PushStreamOpened() => _openPushStreams.Add(1);

    public void PushStreamClosed() => _openPushStreams.Add(-1);
}

/// <summary>
/// The login flow's spans, in one <see cref="ActivitySource"/> named <see cref="Name"/>. With no listener (no trace
/// exporter configured) <c>StartActivity</c> returns null and costs a field check.
/// </summary>
public static class AuthServerTraces
{
    public const string Name = "AuthServer";

    public static readonly ActivitySource Source = new(Name);

    public const string LoginRequestIdTag = "authserver.login_request.id";
    public const string ClientIdTag = "authserver.client_id";
    public const string OutcomeTag = "authserver.outcome";
}
