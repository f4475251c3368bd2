using AuthServer.Protocol;
using Microsoft.AspNetCore.Diagnostics;

namespace AuthServer.Hosting;

public static class AuthServerPipeline
{
    /// <summary>The middleware, in order: who is calling, what went wrong, what the browser may do, who is signed in.</summary>
    public static WebApplication UseAuthServer(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteErrorAsync });
        app.UseStatusCodePages();
        app.Use(SecurityHeaders);
        app.UseRouting();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        var selfRegistration = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthServerOptions>>().Value.AllowSelfRegistration;
        if (!selfRegistration) app.Use(BlockSelfRegistration);
        // Static files as endpoints, from the build's manifest: no file-system probe on every protocol request.
        app.MapStaticAssets();
        return app;
    }

    private static readonly PathString[] RegistrationPaths =
        ["/Identity/Account/Register", "/Identity/Account/RegisterConfirmation", "/Identity/Account/ExternalLogin"];

    private static Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        // RFC 9700 §4.16: the login and consent pages must not be framed (clickjacking).
        headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        // The verification URL carries the user code; keep it out of Referer headers.
        headers["Referrer-Policy"] = "no-referrer";
        return next(context);
    }

    private static Task BlockSelfRegistration(HttpContext context, RequestDelegate next)
    {
        if (RegistrationPaths.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return next(context);
    }

    /// <summary>
    /// An unexpected failure never shows a stack trace: protocol endpoints answer <c>server_error</c> (RFC 6749 §5.2
    /// style), pages the friendly error page, and everything else a problem details body (RFC 9457).
    /// </summary>
    private static async Task WriteErrorAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/connect"))
        {
            await new OAuthError("server_error", "The server could not complete the request.", StatusCodes.Status500InternalServerError)
                .ExecuteAsync(context);
            return;
        }
        if (context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Redirect("/Error");
            return;
        }
        await TypedResults.Problem(statusCode: 500, title: "Something went wrong on our side.").ExecuteAsync(context);
    }
}
