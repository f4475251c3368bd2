using AuthServer.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Pages.Language;

/// <summary>
/// The header's language switch: remembers the choice in the standard culture cookie (which the next request reads
/// before Accept-Language) and goes back to the page it was made on. Razor Pages check the antiforgery token.
/// </summary>
public sealed class IndexModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public IActionResult OnPost(string? culture, string? returnUrl)
    {
        if (culture is null || !Languages.Supported.Contains(culture))
            return BadRequest();
        Languages.Remember(Response, culture);
        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }
}
