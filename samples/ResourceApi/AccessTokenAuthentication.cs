using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ResourceApi;

/// <summary>
/// ASP.NET Core authentication for our access tokens: <c>Authorization: Bearer</c> (RFC 6750 §2.1) for plain tokens,
/// <c>Authorization: DPoP</c> plus a <c>DPoP</c> proof header (RFC 9449 §7) for DPoP-bound ones. The identity's
/// <see cref="ClaimsIdentity.AuthenticationType"/> is the scheme the token was accepted with.
/// </summary>
public sealed class AccessTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    AccessTokenValidator tokens,
    DpopProofValidator proofs)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    public const string SchemeName = "AccessToken";
    public const string Bearer = "Bearer";
    public const string Dpop = "DPoP";

    /// <summary>Why the request's credentials were refused: the challenge's scheme, error and description.</summary>
    private sealed record Refusal(string Scheme, string Error, string Description);

    private Refusal? _refusal;
    private bool _authorityUnavailable;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization;
        if (authorization.Count == 0) return AuthenticateResult.NoResult();
        if (authorization.Count > 1) return Refuse(Bearer, "invalid_request", "Send one Authorization header.");

        var header = authorization.ToString();
        var space = header.IndexOf(' ');
        var scheme = space > 0 ? header[..space] : header;
        var token = space > 0 ? header[(space + 1)..].Trim() : "";
        // Scheme names are case-insensitive (RFC 9110 §11.1).
        if (string.Equals(scheme, Bearer, StringComparison.OrdinalIgnoreCase)) scheme = Bearer;
        else if (string.Equals(scheme, Dpop, StringComparison.OrdinalIgnoreCase)) scheme = Dpop;
        else return AuthenticateResult.NoResult();
        if (token.Length == 0) return Refuse(scheme, "invalid_request", "The Authorization header has no token.");

        ValidAccessToken? valid;
        string? refusal;
        try
        {
            (valid, refusal) = await tokens.ValidateAsync(token, Context.RequestAborted);
        }
        catch (AuthorityUnavailableException ex)
        {
            _authorityUnavailable = true;
            return AuthenticateResult.Fail(ex);
        }
        if (valid is null) return Refuse(scheme, "invalid_token", refusal!);

        if (valid.Jkt is null)
        {
            // A DPoP request whose token is not bound is a client confused about its token: say so.
            if (scheme == Dpop) return Refuse(Dpop, "invalid_token", "This access token is not DPoP-bound; send it with the Bearer scheme.");
        }
        else
        {
            // §7.2: a bound token without its proof is just a copied string. Refused, with the scheme to use.
            if (scheme == Bearer) return Refuse(Dpop, "invalid_token", "This access token is DPoP-bound; send it with the DPoP scheme and a proof.");
            if (await proofs.ValidateAsync(Request, token, valid.Jkt) is { } proofError)
                return Refuse(Dpop, "invalid_dpop_proof", proofError);
        }

        var identity = new ClaimsIdentity(valid.Claims, authenticationType: scheme, nameType: "sub", roleType: null);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private AuthenticateResult Refuse(string scheme, string error, string description)
    {
        _refusal = new Refusal(scheme, error, description);
        Logger.LogInformation("Refused a {Scheme} request: {Error}: {Description}", scheme, error, description);
        return AuthenticateResult.Fail(description);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await HandleAuthenticateOnceSafeAsync();
        if (_authorityUnavailable)
        {
            // Not the client's fault: the API cannot judge any token until it has the keys.
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            Response.Headers.RetryAfter = "30";
            return;
        }

        // RFC 6750 §3.1: a malformed request is 400, a bad token 401.
        Response.StatusCode = _refusal?.Error == "invalid_request" ? StatusCodes.Status400BadRequest : StatusCodes.Status401Unauthorized;
        if (_refusal is null)
        {
            // No credentials: both schemes are offered (RFC 9449 §7.1), DPoP with the proof algorithms we accept.
            Response.Headers.Append(HeaderNames.WWWAuthenticate, Bearer);
            Response.Headers.Append(HeaderNames.WWWAuthenticate, $"{Dpop} algs=\"{string.Join(' ', DpopProofValidator.Algorithms)}\"");
            return;
        }
        Response.Headers.Append(HeaderNames.WWWAuthenticate, Challenge(_refusal.Scheme, _refusal.Error, _refusal.Description));
    }

    /// <summary>
    /// An RFC 6750 §3 / RFC 9449 §7.1 challenge. The descriptions are our own fixed sentences, without quotes or
    /// backslashes, so they need no escaping.
    /// </summary>
    public static string Challenge(string scheme, string error, string description, string? scope = null)
    {
        var parameters = new List<string> { $"error=\"{error}\"", $"error_description=\"{description}\"" };
        if (scope is not null) parameters.Add($"scope=\"{scope}\"");
        if (scheme == Dpop) parameters.Add($"algs=\"{string.Join(' ', DpopProofValidator.Algorithms)}\"");
        return $"{scheme} {string.Join(", ", parameters)}";
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

            var scheme = user.Identity?.AuthenticationType == AccessTokenAuthenticationHandler.Dpop
                ? AccessTokenAuthenticationHandler.Dpop
                : AccessTokenAuthenticationHandler.Bearer;
            context.HttpContext.Response.Headers.Append(HeaderNames.WWWAuthenticate,
                AccessTokenAuthenticationHandler.Challenge(scheme, "insufficient_scope", $"This request needs the scope {scope}.", scope));
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        });
}
