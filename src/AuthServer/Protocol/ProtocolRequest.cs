using Microsoft.Extensions.Primitives;

namespace AuthServer.Protocol;

/// <summary>
/// The parameters of a protocol POST. RFC 6749 §3.2 and RFC 8628 §3.1 require
/// <c>application/x-www-form-urlencoded</c>, and §3.1 forbids sending a parameter more than once.
/// </summary>
public sealed class ProtocolRequest
{
    private readonly IFormCollection _form;

    private ProtocolRequest(IFormCollection form) => _form = form;

    /// <summary>A parameter's value; null when absent or empty, since RFC 6749 §3.1 says parameters sent without a
    /// value must be treated as if they were omitted.</summary>
    public string? this[string name] =>
        _form.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) && value.ToString() is { Length: > 0 } text ? text : null;

    /// <summary>Reads and checks the form; returns an <see cref="OAuthError"/> for anything malformed.</summary>
    public static async Task<(ProtocolRequest? Request, OAuthError? Error)> ReadAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType
            || !string.Equals(context.Request.ContentType?.Split(';')[0].Trim(), "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return (null, OAuthError.InvalidRequest("The request must be a POST with Content-Type application/x-www-form-urlencoded."));

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, OAuthError.InvalidRequest("The request body is not a valid form."));
        }

        foreach (var (name, values) in form)
        {
            if (values.Count > 1)
                return (null, OAuthError.InvalidRequest($"The '{name}' parameter must not be repeated (RFC 6749 §3.1)."));
        }
        return (new ProtocolRequest(form), null);
    }
}
