using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Pages;

/// <summary>The home page: the live QR code that signs this browser in, or, once signed in, the account.</summary>
public sealed class IndexModel(UserManager<ApplicationUser> users) : PageModel
{
    /// <summary>The signed-in account's name, or null when this browser is not signed in.</summary>
    public string? SignedInAs { get; private set; }

    public async Task OnGetAsync()
    {
        if (User.Identity?.IsAuthenticated != true) return;
        var user = await users.GetUserAsync(User);
        SignedInAs = user is null ? null : user.DisplayName ?? user.UserName;
    }
}
