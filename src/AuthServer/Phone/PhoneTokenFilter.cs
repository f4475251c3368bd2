using AuthServer.Clients;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthServer.Phone;

/// <summary>
/// The phone API is only for our own phone app: an access token of a first-party client with the <c>phone</c> scope.
/// No token is 401 with a Bearer challenge (RFC 6750 §3); any other valid token is 403.
/// </summary>
public sealed class PhoneTokenFilter(AccessTokenValidator validator, ClientStore clients) : IEndpointFilter
{
    public const string PhoneScope = "phone";
    private const string ItemKey = "AuthServer.PhoneToken";

    public static ValidatedAccessToken TokenOf(HttpContext context) => (ValidatedAccessToken)context.Items[ItemKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= "Bearer ".Length)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(StatusCodes.Status401Unauthorized, "Sign in first", "Send the phone's access token as a Bearer token.");
        }

        var token = await validator.ValidateAsync(context.Request, header["Bearer ".Length..].Trim());
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return Problem(StatusCodes.Status401Unauthorized, "Invalid token", "The access token is not valid, has expired, or its device was logged out.");
        }
        if (clients.Find(token.ClientId) is not { FirstParty: true } || !token.Scopes.Contains(PhoneScope))
            return Problem(StatusCodes.Status403Forbidden, "Not the phone app", "Only the phone app's token (scope 'phone') may use this API.");

        context.Items[ItemKey] = token;
        return await next(invocation);
    }

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
