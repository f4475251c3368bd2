using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;

namespace AuthServer.Pages.Admin.Clients;

/// <summary>
/// A new client. A confidential one gets a secret made by the server (256 random bits), shown on this page once and
/// stored only as its hash.
/// </summary>
public sealed class CreateModel(
    AuthServerDbContext db, IOpenIddictApplicationManager applications, ClientStore clients, ScopeCatalog scopes, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty]
    public ClientInput Input { get; set; } = new();

    public IEnumerable<string> AllScopes => scopes.Names;

    /// <summary>The new client's secret: on the response to the creation only.</summary>
    public string? CreatedSecret { get; private set; }
    public bool Created { get; private set; }

    /// <summary>A new client starts as a public device-login client, the most common kind here.</summary>
    public void OnGet() => Input = new() { GrantTypes = [GrantTypes.DeviceCode, GrantTypes.RefreshToken], Scopes = ["openid", "profile", "offline_access"] };

    public async Task<IActionResult> OnPostAsync()
    {
        var clientId = Input.ClientId.Trim();
        if (!ClientRules.ClientIdPattern().IsMatch(clientId))
            ModelState.AddModelError("Input.ClientId", "A client id is 1 to 100 letters, digits or . _ ~ -.");
        else if (clients.Find(clientId) is not null || await applications.FindByClientIdAsync(clientId, HttpContext.RequestAborted) is not null)
            ModelState.AddModelError("Input.ClientId", text["There is already a client '{0}'.", clientId]);
        var definition = Input.ToDefinition(ModelState, nameof(Input), scopes, disabled: false);
        if (definition is null || !ModelState.IsValid) return Page();

        var secret = definition.Type == ClientType.Confidential ? ClientSecretHasher.NewSecret() : null;
        if (secret is not null) definition.SecretHashes = [ClientSecretHasher.Hash(secret)];
        await AdminChange.RunAsync(db, async () =>
        {
            await applications.CreateAsync(ClientSeeder.Describe(clientId, definition), HttpContext.RequestAborted);
            Data.Audit.Add(db, Data.Audit.ClientCreated, clock.GetUtcNow(), null, clientId,
                $"Created {definition.Type.ToString().ToLowerInvariant()} client {clientId} ({definition.DisplayName ?? clientId}); grants {string.Join(", ", definition.GrantTypes)}; scopes {string.Join(" ", definition.Scopes)}.");
            return null;
        }, HttpContext.RequestAborted);
        await clients.ReloadAsync(HttpContext.RequestAborted);

        Created = true;
        CreatedSecret = secret;
        Input.ClientId = clientId;
        // The secret is in this response only: no cache may keep it.
        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
