using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.Handlers;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Endpoints;

/// <summary>
/// The end of a decision at the verification endpoint (RFC 8628 §3.3), shared by its two doors (the page and the
/// phone API): once our transition has decided, OpenIddict's verification sign-in (approve) or forbid (deny) moves the
/// device code, so the waiting screen's next redemption gets tokens or access_denied.
/// </summary>
public static class Verification
{
    /// <summary>The login request behind this verification request's user code (OpenIddict's <c>oi_dvc_id</c>), or null.</summary>
    private static async Task<string?> LoginRequestIdAsync(HttpContext context)
    {
        // An unknown, expired or used user code still authenticates, with an empty principal: the claim is the test.
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        return result.Principal?.GetClaim(Claims.Private.DeviceCodeId);
    }

    /// <summary>
    /// Hands our decision (already stored) to OpenIddict, whose verification request carried this request's user code,
    /// then announces it. The caller writes its own response.
    /// </summary>
    public static async Task CompleteAsync(HttpContext context, DeviceAuthorizationState decided, TimeProvider clock)
    {
        await HandToOpenIddictAsync(context, decided, clock);
        // Only now do waiting screens hear of it: their next poll must find the device code decided.
        await context.RequestServices.GetRequiredService<DeviceFlowService>().PublishAsync(decided);
    }

    private static async Task HandToOpenIddictAsync(HttpContext context, DeviceAuthorizationState decided, TimeProvider clock)
    {
        VerificationHandlers.AppWillAnswer(context);
        if (await LoginRequestIdAsync(context) != decided.Id)
        {
            // Our decision stands (the poll answers from it), but OpenIddict no longer holds the code as pending: it
            // expired in the instant between our transition and this call. The screen then hears expired_token.
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(Verification))
                .LogWarning("Login request {Id} was decided after OpenIddict closed its device code", decided.Id);
            return;
        }
        if (decided.Status != DeviceAuthorizationStatus.Approved)
        {
            await context.ForbidAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return;
        }

        var services = context.RequestServices;
        var user = await Accounts.FindAsync(services.GetRequiredService<Data.AuthServerDbContext>(), services.GetRequiredService<Data.Stores.ReadAccounts>(),
                decided.SubjectId, context.RequestAborted)
            ?? throw new InvalidOperationException("The approving account is gone.");
        var principal = AccountPrincipal.Create(user, decided.Scopes, clock.GetUtcNow(), services.GetRequiredService<IOptions<Hosting.TokenOptions>>().Value);
        // The approved code stays redeemable until the request's own end, not for a fresh global lifetime.
        var remaining = decided.ExpiresAt - clock.GetUtcNow();
        principal.SetDeviceCodeLifetime(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromSeconds(1));
        // The linked device this approval creates is the waiting screen, as it described itself.
        new LinkedDeviceInfo(decided.DeviceName, decided.RequesterIp, decided.RequesterUserAgent, decided.ClientId).AttachTo(context);
        await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, principal);
    }
}
