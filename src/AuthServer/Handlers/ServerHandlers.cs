using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Handlers;

/// <summary>Every handler we add to OpenIddict, by endpoint, in the order a request meets them.</summary>
public static class ServerHandlers
{
    public static void Register(OpenIddictServerBuilder server)
    {
        // Every request: which endpoint it is for (from a table of paths); the phone API's approve and deny are verification requests; no parameter comes twice.
        server.RemoveEventHandler(OpenIddict.Server.OpenIddictServerHandlers.InferEndpointType.Descriptor);
        server.AddEventHandler(EndpointHandlers.InferEndpointTypeFromPath.Descriptor);
        server.AddEventHandler(VerificationHandlers.RecognisePhoneDecisions.Descriptor);
        RequestHandlers.Register(server);

        // Authorization endpoint.
        server.AddEventHandler(AuthorizeHandlers.ApplyDefaultScopes.Descriptor);
        server.AddEventHandler(AuthorizeHandlers.ValidateCodeChallengeFormat.Descriptor);
        server.AddEventHandler(ScopeHandlers.AtAuthorization.Descriptor);
        server.AddEventHandler(AuthorizeHandlers.ShowLocalErrorsOnPage.Descriptor);

        // Device authorization endpoint: the rate limits first.
        server.AddEventHandler(RateLimitHandlers.LimitDeviceAuthorizations.Descriptor);
        server.AddEventHandler(DeviceAuthorizationHandlers.ApplyDefaultScopes.Descriptor);
        server.AddEventHandler(ScopeHandlers.AtDeviceAuthorization.Descriptor);
        server.AddEventHandler(DeviceAuthorizationHandlers.ValidateScreen.Descriptor);
        server.AddEventHandler(DeviceAuthorizationHandlers.CreateLoginRequest.Descriptor);
        server.AddEventHandler(WebSignInHandlers.BindToTheBrowser.Descriptor);
        server.AddEventHandler(DeviceAuthorizationHandlers.AttachInterval.Descriptor);

        // Verification endpoint: the page and the phone API.
        server.RemoveEventHandler(OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandlers
            .ExtractGetOrPostRequest<OpenIddict.Server.OpenIddictServerEvents.ExtractEndUserVerificationRequestContext>.Descriptor);
        server.AddEventHandler(VerificationHandlers.ExtractVerificationRequest.Descriptor);
        server.AddEventHandler(VerificationHandlers.LeaveAnswerToApp.Descriptor);

        // Token endpoint: the rate limit, DPoP, then the poll from memory, before OpenIddict reads anything.
        server.AddEventHandler(RateLimitHandlers.LimitTokenRequests.Descriptor);
        server.AddEventHandler(DpopHandlers.ValidateTokenRequestProof.Descriptor);
        server.AddEventHandler(TokenHandlers.AnswerPollFromMemory.Descriptor);
        server.AddEventHandler(TokenHandlers.AnswerDeferredPoll.Descriptor);
        server.AddEventHandler(WebSignInHandlers.RedeemOnlyInTheBoundBrowser.Descriptor);
        server.AddEventHandler(RefreshReuseHandlers.AuditReuseAfterLeeway.Descriptor);
        server.AddEventHandler(TokenHandlers.RedeemCodeWithTheBoundKey.Descriptor);
        server.AddEventHandler(TokenHandlers.RefreshWithTheBoundKey.Descriptor);
        server.AddEventHandler(TokenHandlers.RefreshWithinTheGrantedScopes.Descriptor);
        server.AddEventHandler(RefreshReuseHandlers.CountPresentations.Descriptor);
        server.AddEventHandler(RefreshReuseHandlers.RefuseRevokedDuringGrant.Descriptor);
        server.AddEventHandler(RefreshReuseHandlers.LinkSuccessor.Descriptor);
        server.AddEventHandler(TokenHandlers.FollowRedemption.Descriptor);
        // One transaction for each grant's writes.
        server.AddEventHandler(GrantTransactionHandlers.BeginBeforeRedemption.Descriptor);
        server.AddEventHandler(GrantTransactionHandlers.BeginAfterLoginRequest.Descriptor);
        server.AddEventHandler(GrantTransactionHandlers.Commit.Descriptor);
        server.AddEventHandler(GrantTransactionHandlers.CommitRejected.Descriptor);
        server.AddEventHandler(DpopHandlers.AttachDpopTokenType.Descriptor);
        server.AddEventHandler(TelemetryHandlers.CountIssuedTokens.Descriptor);

        // Introspection endpoint.
        server.AddEventHandler(IntrospectionHandlers.AttachOurClaims.Descriptor);
        server.AddEventHandler(IntrospectionHandlers.InactiveRatherThanRefused.Descriptor);
        server.AddEventHandler(IntrospectionHandlers.NoStore.Descriptor);

        // Revocation endpoint.
        server.AddEventHandler(RevocationHandlers.LogOutTheDevice.Descriptor);

        // End-session endpoint.
        server.AddEventHandler(EndSessionHandlers.RequireTheClientForARedirect.Descriptor);
        server.AddEventHandler(EndSessionHandlers.RequireOneApplication.Descriptor);
        server.AddEventHandler(EndSessionHandlers.ShowErrorsOnPage.Descriptor);

        // Userinfo endpoint.
        server.AddEventHandler(ProofOfPossessionHandlers.UserinfoReadsDpopScheme.Descriptor);
        server.AddEventHandler(UserinfoHandlers.WriteErrorBody.Descriptor);

        // Issuing tokens: linked devices instead of OpenIddict's ad-hoc authorizations, DPoP binding, the refresh
        // family's end, no new ID token on a refresh, and the keys that sign.
        server.RemoveEventHandler(OpenIddict.Server.OpenIddictServerHandlers.AttachAuthorization.Descriptor);
        server.AddEventHandler(SignInHandlers.AttachLinkedDevice.Descriptor);
        server.AddEventHandler(SignInHandlers.BindToDpopKey.Descriptor);
        server.AddEventHandler(SignInHandlers.LimitRefreshTokenFamily.Descriptor);
        server.AddEventHandler(SignInHandlers.NoIdentityTokenOnRefresh.Descriptor);
        server.AddEventHandler(SignInHandlers.SignWithCurrentKeys.Descriptor);
        server.AddEventHandler(TokenStorageHandlers.NoRowForIdentityTokens.Descriptor);
        server.AddEventHandler(TokenStorageHandlers.DeferEntryUntilPayload.Descriptor);
        server.AddEventHandler(TokenStorageHandlers.WriteDeferredEntry.Descriptor);

        // Token validation: DPoP binding is checked by us.
        server.AddEventHandler(ProofOfPossessionHandlers.ServerLeavesBindingToUs.Descriptor);

        // Discovery.
        server.AddEventHandler(DiscoveryHandlers.AttachOurMetadata.Descriptor);
    }
}

/// <summary>What we add to OpenIddict's validation stack (our own protected endpoints).</summary>
public static class ValidationHandlers
{
    public static void Register(OpenIddictValidationBuilder validation)
    {
        validation.AddEventHandler(ProofOfPossessionHandlers.ValidationReadsDpopScheme.Descriptor);
        validation.AddEventHandler(ProofOfPossessionHandlers.ValidationLeavesBindingToUs.Descriptor);
    }
}
