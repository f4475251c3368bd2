using OpenIddict.EntityFrameworkCore.Models;

namespace AuthServer.Data.Entities;

/// <summary>A registered client: OpenIddict's application row. Our per-client settings live in its Settings.</summary>
public sealed class Application : OpenIddictEntityFrameworkCoreApplication<string, Authorization, Token>
{
    /// <summary>A detached copy of the row's columns, without navigations (see <see cref="Stores.ApplicationStore"/>).</summary>
    public Application Copy() => new()
    {
        Id = Id, ApplicationType = ApplicationType, ClientId = ClientId, ClientSecret = ClientSecret, ClientType = ClientType,
        ConcurrencyToken = ConcurrencyToken, ConsentType = ConsentType, DisplayName = DisplayName, DisplayNames = DisplayNames,
        JsonWebKeySet = JsonWebKeySet, Permissions = Permissions, PostLogoutRedirectUris = PostLogoutRedirectUris,
        Properties = Properties, RedirectUris = RedirectUris, Requirements = Requirements, Settings = Settings,
    };
}

/// <summary>
/// OpenIddict's authorization row. An ad-hoc authorization is one <b>linked device</b>: every token issued to a device
/// belongs to it, its id is the tokens' <c>device_id</c>, and revoking it logs the device out. A permanent authorization
/// remembers a user's consent to a third-party client. The columns below say which device it is, for the account's
/// device list; they are null on consents.
/// </summary>
public sealed class Authorization : OpenIddictEntityFrameworkCoreAuthorization<string, Application, Token>
{
    /// <summary>The client's id: OpenIddict's foreign-key column, as a property so it is written without loading the client.</summary>
    public string? ApplicationId { get; set; }

    /// <summary>What the device calls itself (self-reported, so shown as such), or the client's name.</summary>
    public string? DeviceName { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
    public string? LastIp { get; set; }
    public string? UserAgent { get; set; }
}

/// <summary>OpenIddict's token row (device codes, user codes, authorization codes, refresh and access tokens).</summary>
public sealed class Token : OpenIddictEntityFrameworkCoreToken<string, Application, Authorization>
{
    /// <summary>OpenIddict's foreign-key columns, as properties so a token is linked without loading either row.</summary>
    public string? ApplicationId { get; set; }

    public string? AuthorizationId { get; set; }
}

/// <summary>OpenIddict's scope row (unused: scopes are declared in configuration).</summary>
public sealed class Scope : OpenIddictEntityFrameworkCoreScope<string>;
