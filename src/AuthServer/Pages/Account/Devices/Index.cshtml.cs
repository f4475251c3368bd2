using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

using OpenIddict.Abstractions;

namespace AuthServer.Pages.Account.Devices;

/// <summary>The account's linked devices on the web, each with a log-out button (the phone API has the same list).</summary>
[Authorize]
public sealed class IndexModel(
    AuthServerDbContext db, ClientStore clients, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens) : PageModel
{
    public IReadOnlyList<LinkedDevice> Devices { get; private set; } = [];
    public string? LoggedOut { get; private set; }

    private string UserId => User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;

    public string ClientName(string clientId) => clients.Find(clientId)?.DisplayName ?? clientId;

    public async Task OnGetAsync() => Devices = await LinkedDevices.ActiveOfAsync(db, UserId, HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostLogOutAsync(string id)
    {
        var device = (await LinkedDevices.ActiveOfAsync(db, UserId, HttpContext.RequestAborted)).FirstOrDefault(d => d.Id == id);
        if (device is not null && await LinkedDevices.LogOutAsync(db, authorizations, tokens, id, UserId, HttpContext.RequestAborted))
            LoggedOut = device.Name;
        await OnGetAsync();
        return Page();
    }
}
