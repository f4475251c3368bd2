using AuthServer.Data.Entities;

namespace AuthServer.Data;

/// <summary>An audit event type: its stored name, how the log names it, and whether the dashboard counts it as a failure.</summary>
public sealed record AuditEventType(string Name, string Label, bool IsFailure = false);

/// <summary>
/// The audit log. Each event is written in the same transaction as the change it records:
/// <list type="bullet">
/// <item>our own code adds it (<see cref="Add"/>) to the transaction or the <c>SaveChanges</c> that makes the change;</item>
/// <item>OpenIddict's writes (a token issued or revoked, a linked device ended) get theirs from
/// <see cref="AuditInterceptor"/>, inside the very <c>SaveChanges</c> OpenIddict calls;</item>
/// <item>a login request's transitions, which are hand-written statements on the hot path, get theirs from SQLite
/// triggers (the <c>AdminPages</c> migration), so no statement is added to the scan or the decision.</item>
/// </list>
/// Who made a change and from where is filled in by <see cref="AuditInterceptor"/> from the request. Details are for
/// people and never contain a secret.
/// </summary>
public static class Audit
{
    // Signing in on the sign-in page.
    public const string SignInSucceeded = "sign_in.succeeded";
    public const string SignInFailed = "sign_in.failed";
    public const string LockedOut = "account.locked_out";
    public const string AccountRegistered = "account.registered";

    // A login request (written by the database triggers, which spell the same names).
    public const string LoginRequestScanned = "login_request.scanned";
    public const string LoginRequestApproved = "login_request.approved";
    public const string LoginRequestDenied = "login_request.denied";
    public const string NumberMismatch = "login_request.number_mismatch";

    // Tokens and linked devices.
    public const string TokenIssued = "token.issued";
    public const string TokenRevoked = "token.revoked";
    public const string RefreshTokenReuse = "refresh_token.reuse";
    public const string LinkedDeviceEnded = "linked_device.ended";
    public const string ConsentRevoked = "consent.revoked";

    // Limits and keys. "Rotate now" on the keys page is this event too, with the admin as its actor.
    public const string UserCodeRateLimited = "rate_limit.user_code";
    public const string DeviceAuthorizationRateLimited = "rate_limit.device_authorization";
    public const string TokenRateLimited = "rate_limit.token";
    public const string SigningKeyRotated = "signing_key.rotated";

    // Admin changes (the admin is the event's actor).
    public const string ClientCreated = "admin.client_created";
    public const string ClientUpdated = "admin.client_updated";
    public const string ClientDisabled = "admin.client_disabled";
    public const string ClientEnabled = "admin.client_enabled";
    public const string ClientDeleted = "admin.client_deleted";
    public const string ClientSecretRotated = "admin.client_secret_rotated";
    public const string ClientSecretRetired = "admin.client_secret_retired";
    public const string UserCreated = "admin.user_created";
    public const string UserLocked = "admin.user_locked";
    public const string UserUnlocked = "admin.user_unlocked";
    public const string UserLockoutReset = "admin.user_lockout_reset";
    public const string UserRolesChanged = "admin.user_roles_changed";
    public const string UserSignedOutEverywhere = "admin.user_signed_out_everywhere";
    public const string DeviceRevoked = "admin.device_revoked";

    /// <summary>Every type the log holds, in the order the audit page offers them.</summary>
    public static readonly IReadOnlyList<AuditEventType> Types =
    [
        new(SignInSucceeded, "Sign-in succeeded"),
        new(SignInFailed, "Sign-in failed", IsFailure: true),
        new(LockedOut, "Account locked out", IsFailure: true),
        new(AccountRegistered, "Account registered"),
        new(LoginRequestScanned, "Login request scanned"),
        new(LoginRequestApproved, "Login request approved"),
        new(LoginRequestDenied, "Login request denied", IsFailure: true),
        new(NumberMismatch, "Number matching failed", IsFailure: true),
        new(TokenIssued, "Token issued"),
        new(TokenRevoked, "Token revoked"),
        new(RefreshTokenReuse, "Refresh token reuse detected", IsFailure: true),
        new(LinkedDeviceEnded, "Linked device ended"),
        new(ConsentRevoked, "Consent revoked"),
        new(UserCodeRateLimited, "User-code rate limit hit", IsFailure: true),
        new(DeviceAuthorizationRateLimited, "Device authorization rate limit hit", IsFailure: true),
        new(TokenRateLimited, "Token endpoint rate limit hit", IsFailure: true),
        new(SigningKeyRotated, "Signing key rotated"),
        new(ClientCreated, "Admin: client created"),
        new(ClientUpdated, "Admin: client changed"),
        new(ClientDisabled, "Admin: client disabled"),
        new(ClientEnabled, "Admin: client enabled"),
        new(ClientDeleted, "Admin: client deleted"),
        new(ClientSecretRotated, "Admin: client secret rotated"),
        new(ClientSecretRetired, "Admin: old client secret retired"),
        new(UserCreated, "Admin: user created"),
        new(UserLocked, "Admin: user locked"),
        new(UserUnlocked, "Admin: user unlocked"),
        new(UserLockoutReset, "Admin: failed sign-ins reset"),
        new(UserRolesChanged, "Admin: roles changed"),
        new(UserSignedOutEverywhere, "Admin: user signed out everywhere"),
        new(DeviceRevoked, "Admin: linked device revoked"),
    ];

    private static readonly Dictionary<string, AuditEventType> ByName = Types.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static AuditEventType? Find(string? name) => name is null ? null : ByName.GetValueOrDefault(name);

    /// <summary>The names of the failure types: what the dashboard counts as failures.</summary>
    public static readonly IReadOnlyList<string> FailureTypes = [.. Types.Where(t => t.IsFailure).Select(t => t.Name)];

    /// <summary>
    /// Adds an event to <paramref name="db"/> without saving it: it is written by the next <c>SaveChanges</c>, with the
    /// change it records.
    /// </summary>
    public static AuditEvent Add(AuthServerDbContext db, string type, DateTimeOffset at, string? userId, string? clientId, string detail)
    {
        var audit = new AuditEvent { Type = type, At = at, UserId = userId, ClientId = clientId, Detail = Shorten(detail) };
        db.AuditEvents.Add(audit);
        return audit;
    }

    /// <summary>Writes an event that records no other change of the database (a refusal, a rate limit hit).</summary>
    public static async Task WriteAsync(AuthServerDbContext db, string type, DateTimeOffset at, string? userId, string? clientId, string detail, CancellationToken cancellationToken)
    {
        Add(db, type, at, userId, clientId, detail);
        await db.SaveChangesAsync(cancellationToken);
    }

    public const int MaxDetailLength = 2000;

    private static string Shorten(string detail) => detail.Length <= MaxDetailLength ? detail : detail[..(MaxDetailLength - 1)] + "…";
}
