using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace AuthServer.Pages.AuthorizeError;

/// <summary>
/// Shown when an authorization request cannot be answered by redirect: an unknown client or an unregistered redirect
/// URI (RFC 6749 §4.1.2.1). Redirecting there would hand the user to whoever forged the request.
/// </summary>
public sealed class IndexModel : PageModel
{
    private const int MaxLength = 200;

    public string Error { get; private set; } = "invalid_request";
    public string Description { get; private set; } = "The request was not valid.";

    public void OnGet([FromQuery] string? error, [FromQuery(Name = "error_description")] string? description)
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        if (error is { Length: > 0 and <= MaxLength }) Error = error;
        if (description is { Length: > 0 and <= MaxLength }) Description = description;
        // The two a user can meet from a forged or broken link, in their words.
        if (Error == "invalid_client" || Description.Contains("'client_id'", StringComparison.Ordinal))
            Description = "This application is not registered with AuthServer.";
        else if (Description.Contains("redirect_uri", StringComparison.Ordinal))
            Description = "The address this application wants to return to is not registered for it.";
    }
}
