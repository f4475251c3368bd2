namespace AuthServer.Data.Entities;

/// <summary>
/// The browser a login request of the server's own sign-in page belongs to (<see cref="WebSignIn.BrowserBinding"/>):
/// only that browser may redeem the request's device code and turn the approval into a session, once. One row per
/// login request of that client, deleted with it.
/// </summary>
public sealed class BrowserSignIn
{
    /// <summary>The login request's id (<see cref="DeviceAuthorization.Id"/>).</summary>
    public required string Id { get; set; }

    /// <summary>SHA-256 of the secret in the browser's binding cookie (base64url). The secret itself is never stored.</summary>
    public required string BindingHash { get; set; }

    /// <summary>When the approval became this browser's session; set once, by a conditional UPDATE.</summary>
    public DateTimeOffset? SessionIssuedAt { get; set; }
}
