namespace AuthServer.Clients;

public static class GrantTypes
{
    public const string DeviceCode = "urn:ietf:params:oauth:grant-type:device_code";
    public const string RefreshToken = "refresh_token";
    public const string AuthorizationCode = "authorization_code";

    /// <summary>What the token endpoint implements.</summary>
    public static readonly string[] Implemented = [AuthorizationCode, DeviceCode, RefreshToken];

    /// <summary>What a client definition may name.</summary>
    public static readonly HashSet<string> Supported = [DeviceCode, RefreshToken, AuthorizationCode];
}
