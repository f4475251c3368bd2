using System.Globalization;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Clients;

/// <summary>
/// How a client's settings are kept on its OpenIddict application. Lifetimes that OpenIddict applies itself use its own
/// keys (<c>tkn_lft:*</c>); what OpenIddict has no notion of uses ours (<c>authserver:*</c>). Values are invariant
/// strings, TimeSpans in the "c" format, as OpenIddict expects for its own keys.
/// </summary>
public static class ClientSettings
{
    public static readonly TimeSpan DefaultDeviceCodeLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultRefreshTokenAbsoluteLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan DefaultRefreshTokenIdleLifetime = TimeSpan.FromDays(14);

    // OpenIddict applies these per client (the idle refresh lifetime is its sliding refresh-token lifetime).
    public const string DeviceCodeLifetime = Settings.TokenLifetimes.DeviceCode;
    public const string UserCodeLifetime = Settings.TokenLifetimes.UserCode;
    public const string RefreshTokenIdleLifetime = Settings.TokenLifetimes.RefreshToken;
    public const string AccessTokenLifetime = Settings.TokenLifetimes.AccessToken;
    public const string IdentityTokenLifetime = Settings.TokenLifetimes.IdentityToken;

    // Ours.
    public const string PollInterval = "authserver:poll_interval";
    public const string NumberMatching = "authserver:number_matching";
    public const string RequireDpop = "authserver:require_dpop";
    public const string RefreshTokenAbsoluteLifetime = "authserver:refresh_token_absolute_lifetime";
    public const string IdTokenSignedResponseAlg = "authserver:id_token_signed_response_alg";
    public const string CorsOrigins = "authserver:cors_origins";
    public const string LogoUri = "authserver:logo_uri";
    public const string Disabled = "authserver:disabled";

    /// <summary>The secret hashes being rotated out, each with the time it stops working (<see cref="ClientSecrets"/>).</summary>
    public const string RetiringSecrets = "authserver:retiring_secrets";

    public static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    public static string Format(bool value) => value ? "true" : "false";

    /// <summary>The settings of a client, as stored on its application.</summary>
    public static Dictionary<string, string> ToSettings(Client client)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [DeviceCodeLifetime] = Format(client.DeviceCodeLifetime),
            // The user code lives exactly as long as its device code (RFC 8628 §3.2: one expires_in for both).
            [UserCodeLifetime] = Format(client.DeviceCodeLifetime),
            [RefreshTokenIdleLifetime] = Format(client.RefreshTokenIdleLifetime),
            [PollInterval] = Format(client.PollInterval),
            [NumberMatching] = Format(client.NumberMatching),
            [RequireDpop] = Format(client.RequireDpop),
            [RefreshTokenAbsoluteLifetime] = Format(client.RefreshTokenAbsoluteLifetime),
        };
        if (client.IdTokenSignedResponseAlg is { } alg) settings[IdTokenSignedResponseAlg] = alg;
        if (client.AllowedCorsOrigins.Count > 0) settings[CorsOrigins] = string.Join(' ', client.AllowedCorsOrigins);
        if (client.AccessTokenLifetime is { } access) settings[AccessTokenLifetime] = Format(access);
        if (client.IdentityTokenLifetime is { } identity) settings[IdentityTokenLifetime] = Format(identity);
        if (client.LogoUri is { } logo) settings[LogoUri] = logo;
        if (client.Disabled) settings[Disabled] = Format(true);
        return settings;
    }

    /// <summary>Reads a client back from its application's parts.</summary>
    public static Client FromApplication(
        string clientId, string? displayName, string? clientType, string? consentType,
        IEnumerable<string> permissions, IEnumerable<string> redirectUris, IEnumerable<string> postLogoutRedirectUris,
        IReadOnlyDictionary<string, string> settings)
    {
        var granted = permissions.ToList();
        return new Client
        {
            ClientId = clientId,
            DisplayName = displayName ?? clientId,
            LogoUri = settings.GetValueOrDefault(LogoUri),
            Disabled = settings.GetValueOrDefault(Disabled) == "true",
            Type = clientType == ClientTypes.Confidential ? ClientType.Confidential : ClientType.Public,
            FirstParty = consentType == ConsentTypes.Implicit,
            GrantTypes = [.. granted.Where(p => p.StartsWith(Permissions.Prefixes.GrantType, StringComparison.Ordinal))
                .Select(p => p[Permissions.Prefixes.GrantType.Length..])],
            Scopes = [.. granted.Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
                .Select(p => p[Permissions.Prefixes.Scope.Length..])],
            RedirectUris = [.. redirectUris],
            PostLogoutRedirectUris = [.. postLogoutRedirectUris],
            AllowedCorsOrigins = settings.TryGetValue(CorsOrigins, out var origins)
                ? origins.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [],
            DeviceCodeLifetime = Time(settings, DeviceCodeLifetime) ?? DefaultDeviceCodeLifetime,
            PollInterval = Time(settings, PollInterval) ?? DefaultPollInterval,
            NumberMatching = settings.GetValueOrDefault(NumberMatching) == "true",
            RequireDpop = settings.GetValueOrDefault(RequireDpop) == "true",
            RefreshTokenAbsoluteLifetime = Time(settings, RefreshTokenAbsoluteLifetime) ?? DefaultRefreshTokenAbsoluteLifetime,
            RefreshTokenIdleLifetime = Time(settings, RefreshTokenIdleLifetime) ?? DefaultRefreshTokenIdleLifetime,
            AccessTokenLifetime = Time(settings, AccessTokenLifetime),
            IdentityTokenLifetime = Time(settings, IdentityTokenLifetime),
            IdTokenSignedResponseAlg = settings.GetValueOrDefault(IdTokenSignedResponseAlg),
        };
    }

    private static TimeSpan? Time(IReadOnlyDictionary<string, string> settings, string key) =>
        settings.TryGetValue(key, out var value) && TimeSpan.TryParseExact(value, "c", CultureInfo.InvariantCulture, out var parsed)
            ? parsed : null;
}
