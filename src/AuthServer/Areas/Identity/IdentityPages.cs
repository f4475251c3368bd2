namespace AuthServer.Areas.Identity;

/// <summary>
/// Of the stock Identity UI (Areas/Identity), AuthServer serves only the pages it supports, in its own layout: the
/// sign-in page (ours, Pages/Account/Login) and, when <c>AuthServer:AllowSelfRegistration</c> is on, registration.
/// Everything else answers 404 (the friendly page for a browser): the server sends no email, so forgot/reset password
/// and email confirmation cannot work; it offers no second factor or external login; signing out is
/// <c>/connect/endsession</c>, and an account's devices are at <c>/account/devices</c>. Administrators set
/// passwords on the admin Users page.
/// </summary>
public static class IdentityPages
{
    private const string Prefix = "/Identity";

    private static readonly PathString[] Always = ["/Identity/Account/Login"];

    private static readonly PathString[] WithSelfRegistration = ["/Identity/Account/Register", "/Identity/Account/RegisterConfirmation"];

    public static WebApplication UseIdentityPagesWeServe(this WebApplication app, bool selfRegistration)
    {
        PathString[] served = selfRegistration ? [.. Always, .. WithSelfRegistration] : Always;
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase)
                || served.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase)))
                return next(context);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }
}
