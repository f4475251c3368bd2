using AuthServer.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Pages.Admin.Clients;

/// <summary>The registered clients, searchable by id or name; those declared in configuration are marked.</summary>
public sealed class IndexModel(ClientStore clients, IConfiguration configuration) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    /// <summary>Set after a deletion, which comes back here.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Deleted { get; set; }

    public IReadOnlyList<Client> Clients { get; private set; } = [];
    public IReadOnlySet<string> Configured { get; private set; } = new HashSet<string>();

    public void OnGet()
    {
        Configured = ClientSeeder.ConfiguredIds(configuration);
        var search = Search?.Trim() ?? "";
        Clients = [.. clients.All.Where(c => search.Length == 0
            || c.ClientId.Contains(search, StringComparison.OrdinalIgnoreCase)
            || c.DisplayName.Contains(search, StringComparison.OrdinalIgnoreCase))];
    }
}
