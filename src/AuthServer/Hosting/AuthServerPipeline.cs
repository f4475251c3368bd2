using AuthServer.Areas.Identity;
using AuthServer.Localization;
using AuthServer.Protocol;
using Microsoft.AspNetCore.Diagnostics;

namespace AuthServer.Hosting;

public static class AuthServerPipeline
{
    /// <summary>The middleware, in order: who is calling, what the browser may do, what went wrong, how much may be sent, who is signed in.</summary>
    public static WebApplication UseAuthServer(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseAuthServerLocalization();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteErrorAsync });
        app.UseStatusCodePages(ErrorPage.WriteStatusCodePageAsync);
        app.UseRequestLimits();
        // Before routing, CORS and authentication, none of which a public client's pending poll needs.
        app.UsePendingPollShortcut();
        // The push stream too: what routing and authentication leave on a request, it would hold for minutes.
        app.UseDeviceEventsStream();
        app.UseRouting();
        app.UseCors();
        // OpenIddict answers these itself, inside the authentication middleware, so no endpoint carries their CORS
        // policy: a browser app calls them directly, and they are open to the origins its client registered.
        app.UseWhen(context => OpenIddictOnlyBrowserPaths.Contains(context.Request.Path.Value ?? ""),
            branch => branch.UseCors(Clients.ClientCorsPolicyProvider.Policy));
        app.UseAuthentication();
        app.UseAuthorization();
        // Static files as endpoints, from the build's manifest: no file-system probe on every protocol request.
        app.MapStaticAssets();
        return app;
    }

    private static readonly HashSet<string> OpenIddictOnlyBrowserPaths = new(StringComparer.OrdinalIgnoreCase)
    {
        OpenIddictSetup.OpenIdMetadataPath, OpenIddictSetup.OAuthMetadataPath, OpenIddictSetup.JwksPath,
        OpenIddictSetup.DevicePath, OpenIddictSetup.RevocationPath,
    };

    /// <summary>
    /// A failure never shows a stack trace. A request the server could not read (see <see cref="BadRequestStatusAsync"/>)
    /// is the client's mistake and answers 400; anything else is unexpected and answers 500. Protocol endpoints answer
    /// in the RFC 6749 §5.2 style, pages with a friendly page, and everything else with problem details (RFC 9457).
    /// </summary>
    private static async Task WriteErrorAsync(HttpContext context)
    {
        CorrelationId.Echo(context);
        var badRequest = await BadRequestStatusAsync(context, context.Features.Get<IExceptionHandlerFeature>()?.Error);
        var door = ErrorPage.DoorOf(context.Request);
        if (door == ErrorPage.Door.OAuth)
        {
            await (badRequest is { } status
                ? new OAuthError("invalid_request", "The request body could not be read as a form.", status)
                : new OAuthError("server_error", "The server could not complete the request.", StatusCodes.Status500InternalServerError))
                .ExecuteAsync(context);
            return;
        }
        if (badRequest is { } pageStatus && door == ErrorPage.Door.Page)
        {
            await ErrorPage.WriteAsync(context, pageStatus, "That request could not be read",
                "What your browser sent was not a form this page understands. Nothing was changed; go back and try again.");
            return;
        }
        if (door == ErrorPage.Door.Page)
        {
            context.Response.Redirect("/Error");
            return;
        }
        await (badRequest is { } problemStatus
            ? TypedResults.Problem(statusCode: problemStatus, title: "The request could not be read.",
                detail: "The request body or one of its field names is malformed.")
            : TypedResults.Problem(statusCode: 500, title: "Something went wrong on our side.")).ExecuteAsync(context);
    }

    /// <summary>
    /// The status for a request that failed because it could not be read, or null for a failure of the server's own.
    /// Kestrel and our own checks say so with <see cref="BadHttpRequestException"/> (with its status: 400, 413…). A form
    /// that does not parse (not a form at all, a NUL in a value, a cut-off multipart body) fails every later read of
    /// it with the very same exception, since the form feature keeps its one parse; only an exception that is that
    /// one counts, so an I/O or state error elsewhere still answers 500. It may arrive wrapped: the antiforgery check
    /// reports a form it could not read as an <c>AntiforgeryValidationException</c> around the form's exception.
    /// </summary>
    private static async Task<int?> BadRequestStatusAsync(HttpContext context, Exception? error)
    {
        if (error is BadHttpRequestException bad) return bad.StatusCode;
        var chain = new List<Exception>();
        for (var inner = error; inner is not null && chain.Count < 8; inner = inner.InnerException) chain.Add(inner);
        if (!chain.Any(e => e is InvalidDataException or IOException or InvalidOperationException)
            || context.Features.Get<Microsoft.AspNetCore.Http.Features.IFormFeature>() is not { } form)
            return null;
        try
        {
            await form.ReadFormAsync(CancellationToken.None);
            return null;
        }
        catch (Exception again) when (chain.Any(e => ReferenceEquals(e, again)))
        {
            return StatusCodes.Status400BadRequest;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
