using System.ComponentModel.DataAnnotations;

namespace ScanSignInWeb;

/// <summary>The <c>OpenIdConnect</c> section: which authorization server, and who this app is there.</summary>
public sealed class SignInSettings
{
    public const string Section = "OpenIdConnect";

    /// <summary>The issuer URL; its <c>/.well-known/openid-configuration</c> tells the handler everything else.</summary>
    [Required, Url]
    public string Authority { get; set; } = "";

    [Required]
    public string ClientId { get; set; } = "";

    /// <summary>The confidential client's secret: from an environment variable or user secrets, never from a file in production.</summary>
    [Required]
    public string ClientSecret { get; set; } = "";

    public string[] Scopes { get; set; } = ["openid", "profile", "email"];

    /// <summary>Only a local development authority may be plain http.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}
