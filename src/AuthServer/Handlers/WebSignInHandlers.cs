using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.DeviceFlow;
using AuthServer.WebSignIn;
using Microsoft.AspNetCore;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// The sign-in page's own login requests are bound to the browser that shows them (<see cref="BrowserBinding"/>): at
/// the device authorization endpoint the binding is made, at the token endpoint it is checked before OpenIddict
/// redeems the code.
/// </summary>
public static class WebSignInHandlers
{
    /// <summary>
    /// Stores the hash of the browser's binding secret with the login request <see cref="DeviceAuthorizationHandlers.CreateLoginRequest"/>
    /// has just created, and sets the cookie on the device authorization response when the browser has none yet.
    /// </summary>
    public sealed class BindToTheBrowser(AuthServerDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDeviceAuthorizationRequest>()
            .UseScopedHandler<BindToTheBrowser>()
            .SetOrder(DeviceAuthorizationHandlers.CreateLoginRequest.Descriptor.Order + 10)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.Request.ClientId != BrowserBinding.ClientId) return;
            var id = context.UserCodePrincipal?.GetClaim(Claims.Private.DeviceCodeId)
                ?? throw new InvalidOperationException("OpenIddict did not produce a device code.");
            var secret = BrowserBinding.Ensure(context.Transaction.GetHttpRequest()!.HttpContext);
            db.BrowserSignIns.Add(new BrowserSignIn { Id = id, BindingHash = OpaqueSecret.Hash(secret) });
            await db.SaveChangesAsync(context.CancellationToken);
        }
    }

    /// <summary>
    /// An approved device code of the sign-in page is redeemed only by the browser that showed it. Pending polls were
    /// answered from memory just before (<see cref="TokenHandlers.AnswerPollFromMemory"/>), so this costs one read per
    /// redemption only. Another browser hears <c>invalid_grant</c> (RFC 6749 §5.2), and the code stays redeemable by
    /// its own browser.
    /// </summary>
    public sealed class RedeemOnlyInTheBoundBrowser(DeviceFlowService flow, AuthServerDbContext db) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public const string WrongBrowser = "This device code belongs to another browser.";

        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<RedeemOnlyInTheBoundBrowser>()
            .SetOrder(TokenHandlers.AnswerPollFromMemory.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (!context.Request.IsDeviceCodeGrantType() || context.ClientId != BrowserBinding.ClientId
                || context.Request.DeviceCode is not { Length: > 0 } deviceCode) return;
            // Unknown here: OpenIddict answers invalid_grant for it, as for any unknown code.
            if (await flow.FindByDeviceCodeAsync(deviceCode, context.CancellationToken) is not { } live) return;
            var binding = await db.BrowserSignIns.AsNoTracking().Where(b => b.Id == live.State.Id).Select(b => b.BindingHash)
                .FirstOrDefaultAsync(context.CancellationToken);
            if (binding is null || !BrowserBinding.Matches(context.Transaction.GetHttpRequest()!, binding))
                context.Reject(Errors.InvalidGrant, WrongBrowser);
        }
    }
}
