namespace AuthServer.Clients;

public static class GrantTypes
{
    public const string DeviceCode = OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.DeviceCode;
    public const string RefreshToken = OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.RefreshToken;
    public const string AuthorizationCode = OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.AuthorizationCode;

    /// <summary>For confidential service clients that act for themselves (RFC 6749 §4.4).</summary>
    public const string ClientCredentials = OpenIddict.Abstractions.OpenIddictConstants.GrantTypes.ClientCredentials;

    /// <summary>What a client definition may name.</summary>
    public static readonly HashSet<string> Supported = [DeviceCode, RefreshToken, AuthorizationCode, ClientCredentials];
}
