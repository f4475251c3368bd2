using Microsoft.AspNetCore.Identity;

namespace AuthServer.Data.Entities;

public sealed class ApplicationUser : IdentityUser
{
    /// <summary>The name shown to relying parties (OIDC <c>name</c> claim).</summary>
    public string? DisplayName { get; set; }
}
