using System.Security.Claims;
using System.Text.Json;
using AuthServer.Dpop;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Net.Http.Headers;

namespace ResourceApi;

/// <summary>
/// Our access tokens on the framework's JWT bearer handler: <c>Authorization: Bearer</c> (RFC 6750 §2.1) for plain
/// tokens, <c>Authorization: DPoP</c> plus a <c>DPoP</c> proof header (RFC 9449 §7) for DPoP-bound ones. The handler
/// discovers the authority's metadata and keys and verifies each token (RFC 9068 §4); these events add what it does
/// not know: the DPoP scheme and proof, the RFC 8414 §3.3 issuer check, and challenges that say what went wrong. The
/// identity's <see cref="ClaimsIdentity.AuthenticationType"/> is the scheme the token was accepted with.
/// </summary>
public sealed class AccessTokenEvents(DpopProofValidator proofs, ILogger<AccessTokenEvents> logger) : JwtBearerEvents
{
    public const string Bearer = "Bearer";
    public const string Dpop = "DPoP";

    /// <summary>The signing algorithms accepted for access tokens: what the authorization server signs with.</summary>
    public static readonly string[] TokenAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    /// <summary>The DPoP proof algorithms accepted, advertised in the <c>algs</c> of our DPoP challenges.</summary>
    public static readonly string[] ProofAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];

    // RFC 9068 §4: typ "at+jwt"; "application/at+jwt" is the same media type written in full.
    public static readonly string[] TokenTypes = ["at+jwt", "application/at+jwt"];

    /// <summary>Points the handler at the authority and sets what a token must be to be ours (RFC 9068 §4).</summary>
    public static void Configure(JwtBearerOptions jwt, ResourceApiOptions settings, TimeProvider clock)
    {
        jwt.Authority = settings.Issuer;
        jwt.Audience = settings.Audience;
        jwt.RequireHttpsMetadata = settings.RequireHttpsMetadata;
        jwt.AutomaticRefreshInterval = settings.KeySetLifetime;
        jwt.RefreshInterval = settings.MinimumKeyRefreshInterval;
        jwt.BackchannelTimeout = TimeSpan.FromSeconds(10);
        jwt.MapInboundClaims = false;
        jwt.EventsType = typeof(AccessTokenEvents);
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            ValidTypes = TokenTypes,
            ValidAlgorithms = TokenAlgorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            NameClaimType = JwtRegisteredClaimNames.Sub,
            // Time comes from TimeProvider, not from the token handler's own clock.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = clock.GetUtcNow().UtcDateTime;
                return expires is { } exp && now < exp + settings.ClockSkew && (notBefore is not { } nbf || nbf <= now + settings.ClockSkew);
            },
        };
    }

    /// <summary>What this request presented, and why it was refused: what the challenge says.</summary>
    private sealed class Outcome
    {
        public string Scheme = Bearer;
        public Refusal? Refusal;
        public bool AuthorityUnavailable;
    }

    private sealed record Refusal(string Scheme, string Error, string Description);

    private static readonly object OutcomeKey = new();

    private static Outcome OutcomeOf(HttpContext context)
    {
        if (context.Items[OutcomeKey] is Outcome outcome) return outcome;
        context.Items[OutcomeKey] = outcome = new Outcome();
        return outcome;
    }

    /// <summary>Reads <c>Authorization: Bearer</c> or <c>Authorization: DPoP</c>; anything else is not ours to judge.</summary>
    public override async Task MessageReceived(MessageReceivedContext context)
    {
        var outcome = OutcomeOf(context.HttpContext);
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count == 0)
        {
            context.NoResult();
            return;
        }
        if (authorization.Count > 1)
        {
            Refuse(context, outcome, Bearer, "invalid_request", "Send one Authorization header.");
            return;
        }

        var header = authorization.ToString();
        var space = header.IndexOf(' ');
        var scheme = space > 0 ? header[..space] : header;
        var token = space > 0 ? header[(space + 1)..].Trim() : "";
        // Scheme names are case-insensitive (RFC 9110 §11.1).
        if (string.Equals(scheme, Bearer, StringComparison.OrdinalIgnoreCase)) scheme = Bearer;
        else if (string.Equals(scheme, Dpop, StringComparison.OrdinalIgnoreCase)) scheme = Dpop;
        else
        {
            context.NoResult();
            return;
        }
        outcome.Scheme = scheme;
        if (token.Length == 0)
        {
            Refuse(context, outcome, scheme, "invalid_request", "The Authorization header has no token.");
            return;
        }

        // Checked before the authority's keys are looked up, so a token of the wrong kind cannot make us fetch them.
        if (Screen(token) is { } wrongKind)
        {
            Refuse(context, outcome, scheme, "invalid_token", wrongKind);
            return;
        }

        var configurations = context.Options.ConfigurationManager!;
        try
        {
            var configuration = await configurations.GetConfigurationAsync(context.HttpContext.RequestAborted);
            // RFC 8414 §3.3: metadata that names another issuer than the one we asked is not the authority's. Asked
            // again (the handler limits how often), so a corrected authority is picked up without a restart.
            if (configuration.Issuer != context.Options.Authority)
            {
                logger.LogError("The discovery document of {Authority} names the issuer {Issuer}: no token can be judged", context.Options.Authority, configuration.Issuer);
                configurations.RequestRefresh();
                outcome.AuthorityUnavailable = true;
                context.Fail("The authorization server's metadata names another issuer.");
                return;
            }
        }
        catch (InvalidOperationException ex)
        {
            // Not the client's fault: the API cannot judge any token until it has the keys.
            logger.LogError(ex, "The metadata and keys of {Authority} could not be loaded", context.Options.Authority);
            outcome.AuthorityUnavailable = true;
            context.Fail(ex);
            return;
        }
        context.Token = token;
    }

    /// <summary>Why <paramref name="token"/> cannot be one of our access tokens, judged without any key; null if it may be.</summary>
    private static string? Screen(string token)
    {
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return "The access token is not a JWT.";
        }
        if (!TokenTypes.Contains(jwt.Typ)) return "The token is not an access token (typ must be at+jwt).";
        if (!TokenAlgorithms.Contains(jwt.Alg)) return "The access token's alg is not accepted.";
        return null;
    }

    /// <summary>The token verified: RFC 9068 §2.2's required claims, then the DPoP binding (RFC 9449 §7).</summary>
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var outcome = OutcomeOf(context.HttpContext);
        var scheme = outcome.Scheme;
        var jwt = (JsonWebToken)context.SecurityToken;
        var claims = context.Principal!.Claims.ToList();
        if (!claims.Any(c => c.Type == JwtRegisteredClaimNames.Sub) || !claims.Any(c => c.Type == "client_id"))
        {
            Refuse(context, outcome, scheme, "invalid_token", "The access token lacks sub or client_id.");
            return;
        }

        // RFC 9449 §6.1: cnf.jkt names the key the token is bound to. Another confirmation method (mTLS's x5t#S256)
        // cannot be checked here, so such a token is refused rather than treated as a bearer token.
        string? jkt = null;
        if (jwt.TryGetPayloadValue<Dictionary<string, object>>("cnf", out var cnf))
        {
            jkt = cnf.TryGetValue("jkt", out var value)
                ? value switch { string s => s, JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(), _ => null }
                : null;
            if (string.IsNullOrEmpty(jkt))
            {
                Refuse(context, outcome, scheme, "invalid_token", "The access token is bound by a confirmation method this API does not support.");
                return;
            }
        }

        if (jkt is null)
        {
            // A DPoP request whose token is not bound is a client confused about its token: say so.
            if (scheme == Dpop)
            {
                Refuse(context, outcome, Dpop, "invalid_token", "This access token is not DPoP-bound; send it with the Bearer scheme.");
                return;
            }
        }
        else
        {
            // §7.2: a bound token without its proof is just a copied string. Refused, with the scheme to use.
            if (scheme == Bearer)
            {
                Refuse(context, outcome, Dpop, "invalid_token", "This access token is DPoP-bound; send it with the DPoP scheme and a proof.");
                return;
            }
            var proof = await proofs.ValidateAsync(context.Request, jwt.EncodedToken, boundJkt: jkt);
            if (proof.Proof is null)
            {
                Refuse(context, outcome, Dpop, "invalid_dpop_proof", proof.Error ?? "A DPoP proof is required with a DPoP-bound access token.");
                return;
            }
        }

        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType: scheme, nameType: JwtRegisteredClaimNames.Sub, roleType: null));
    }

    /// <summary>The handler refused the token itself: the reason, in our words, without the token handler's details.</summary>
    public override Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        var outcome = OutcomeOf(context.HttpContext);
        var description = context.Exception switch
        {
            SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNotYetValidException or SecurityTokenNoExpirationException
                => "The access token has expired or is not valid yet.",
            SecurityTokenInvalidAudienceException => "The access token is not meant for this API.",
            SecurityTokenInvalidIssuerException => "The access token was issued by another authorization server.",
            _ => "The access token's signature does not verify.",
        };
        outcome.Refusal ??= Record(outcome.Scheme, "invalid_token", description);
        return Task.CompletedTask;
    }

    /// <summary>RFC 6750 §3 and RFC 9449 §7.1 challenges: a malformed request is 400, a bad token 401.</summary>
    public override Task Challenge(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var outcome = OutcomeOf(context.HttpContext);
        var response = context.Response;
        if (outcome.AuthorityUnavailable)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.Headers.RetryAfter = "30";
            return Task.CompletedTask;
        }

        var refusal = outcome.Refusal;
        response.StatusCode = refusal?.Error == "invalid_request" ? StatusCodes.Status400BadRequest : StatusCodes.Status401Unauthorized;
        if (refusal is null)
        {
            // No credentials: both schemes are offered (RFC 9449 §7.1), DPoP with the proof algorithms we accept.
            response.Headers.Append(HeaderNames.WWWAuthenticate, Bearer);
            response.Headers.Append(HeaderNames.WWWAuthenticate, $"{Dpop} algs=\"{string.Join(' ', ProofAlgorithms)}\"");
            return Task.CompletedTask;
        }
        response.Headers.Append(HeaderNames.WWWAuthenticate, ChallengeFor(refusal.Scheme, refusal.Error, refusal.Description));
        return Task.CompletedTask;
    }

    /// <summary>
    /// An RFC 6750 §3 / RFC 9449 §7.1 challenge. The descriptions are our own fixed sentences, without quotes or
    /// backslashes, so they need no escaping.
    /// </summary>
    public static string ChallengeFor(string scheme, string error, string description, string? scope = null)
    {
        var parameters = new List<string> { $"error=\"{error}\"", $"error_description=\"{description}\"" };
        if (scope is not null) parameters.Add($"scope=\"{scope}\"");
        if (scheme == Dpop) parameters.Add($"algs=\"{string.Join(' ', ProofAlgorithms)}\"");
        return $"{scheme} {string.Join(", ", parameters)}";
    }

    private void Refuse(ResultContext<JwtBearerOptions> context, Outcome outcome, string scheme, string error, string description)
    {
        outcome.Refusal = Record(scheme, error, description);
        context.Fail(description);
    }

    private Refusal Record(string scheme, string error, string description)
    {
        logger.LogInformation("Refused a {Scheme} request: {Error}: {Description}", scheme, error, description);
        return new Refusal(scheme, error, description);
    }
}

/// <summary>Scope checks for endpoints: a token without the scope gets 403 <c>insufficient_scope</c> (RFC 6750 §3.1).</summary>
public static class ScopeRequirements
{
    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder endpoint, string scope) =>
        endpoint.RequireAuthorization().AddEndpointFilter(async (context, next) =>
        {
            var user = context.HttpContext.User;
            var granted = (user.FindFirst("scope")?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (granted.Contains(scope, StringComparer.Ordinal)) return await next(context);

            var scheme = user.Identity?.AuthenticationType == AccessTokenEvents.Dpop ? AccessTokenEvents.Dpop : AccessTokenEvents.Bearer;
            context.HttpContext.Response.Headers.Append(HeaderNames.WWWAuthenticate,
                AccessTokenEvents.ChallengeFor(scheme, "insufficient_scope", $"This request needs the scope {scope}.", scope));
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        });
}
