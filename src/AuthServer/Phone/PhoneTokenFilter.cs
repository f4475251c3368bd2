using AuthServer.Clients;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthServer.Phone;

/// <summary>
/// The phone API is only for our own phone app: an access token of a first-party client with the <c>phone_app</c> scope.
/// No token (or an invalid one) is 401 with a challenge (RFC 6750 §3, RFC 9449 §7.1); any other valid token is 403.
/// </summary>
public sealed class PhoneTokenFilter(AccessTokenAuthentication authentication, ClientStore clients) : IEndpointFilter
{
    /// <summary>
    /// The phone app's own scope. Not <c>phone</c>: that is OpenID Connect's scope for the phone-number claims
    /// (OIDC Core §5.4), which keeps its standard meaning here.
    /// </summary>
    public const string PhoneScope = "phone_app";
    private const string ItemKey = "AuthServer.PhoneToken";

    public static ValidatedAccessToken TokenOf(HttpContext context) => (ValidatedAccessToken)context.Items[ItemKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var (token, refusal) = await authentication.AuthenticateAsync(context);
        if (refusal is not null)
        {
            AccessTokenAuthentication.Challenge(context.Response, refusal);
            return refusal.Error is null
                ? Problem(StatusCodes.Status401Unauthorized, "Sign in first", "Send the phone's access token in the Authorization header.")
                : Problem(StatusCodes.Status401Unauthorized, "Invalid token", refusal.Description!);
        }
        if (clients.Find(token!.ClientId) is not { FirstParty: true } || !token.Scopes.Contains(PhoneScope))
            return Problem(StatusCodes.Status403Forbidden, "Not the phone app", "Only the phone app's token (scope 'phone_app') may use this API.");

        context.Items[ItemKey] = token;
        return await next(invocation);
    }

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
