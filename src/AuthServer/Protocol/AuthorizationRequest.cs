using System.Text.RegularExpressions;
using AuthServer.Clients;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.WebUtilities;

namespace AuthServer.Protocol;

/// <summary>A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).</summary>
public sealed record AuthorizationRequest(
    Client Client,
    string RedirectUri,
    IReadOnlyList<string> Scopes,
    string CodeChallenge,
    string? State,
    string? Nonce,
    IReadOnlySet<string> Prompt,
    string? DeviceName,
    IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>The same request as a local URL, without the given parameters (e.g. a prompt already honoured).</summary>
    public string ToLocalUrl(params string[] without) =>
        QueryHelpers.AddQueryString(AuthorizeEndpoint.Path,
            Parameters.Where(p => !without.Contains(p.Key)).Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
}

/// <summary>The outcome of validating an authorization request: a request, an error page, or an error redirect.</summary>
public abstract record AuthorizationValidation
{
    public sealed record Valid(AuthorizationRequest Request) : AuthorizationValidation;

    /// <summary>RFC 6749 §4.1.2.1: without a trustworthy client and redirect URI the error is shown, never redirected.</summary>
    public sealed record ShowError(string Error, string Description) : AuthorizationValidation;

    /// <summary>Any other error goes back to the client's redirect URI.</summary>
    public sealed record RedirectError(string RedirectUri, string Error, string Description, string? State) : AuthorizationValidation;
}

/// <summary>
/// Validates authorization requests, in the order RFC 6749 §4.1.2.1 implies: first what makes a redirect safe
/// (client, redirect URI), then everything else, answered by redirect.
/// </summary>
public sealed partial class AuthorizationRequestValidator(ClientStore clients, ScopeCatalog scopes)
{
    private static readonly HashSet<string> PromptValues = ["none", "login", "consent", "select_account"];

    public AuthorizationValidation Validate(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> raw)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var repeated = new List<string>();
        foreach (var (name, values) in raw)
        {
            // RFC 6749 §3.1: parameters without a value count as omitted, and none may be repeated.
            if (values.Count > 1) repeated.Add(name);
            else if (values.ToString() is { Length: > 0 } value) parameters[name] = value;
        }

        if (repeated.Contains("client_id") || repeated.Contains("redirect_uri"))
            return new AuthorizationValidation.ShowError("invalid_request", "client_id and redirect_uri must not be repeated.");
        if (!parameters.TryGetValue("client_id", out var clientId) || clients.Find(clientId) is not { } client)
            return new AuthorizationValidation.ShowError("invalid_client", "The application that sent you here is not registered.");
        if (!parameters.TryGetValue("redirect_uri", out var redirectUri))
            return new AuthorizationValidation.ShowError("invalid_request", "The application did not say where to return to (redirect_uri).");
        if (!IsRegisteredRedirect(client, redirectUri))
            return new AuthorizationValidation.ShowError("invalid_request", "The return address (redirect_uri) is not registered for this application.");

        var state = parameters.GetValueOrDefault("state");
        AuthorizationValidation Fail(string error, string description) =>
            new AuthorizationValidation.RedirectError(redirectUri, error, description, state);

        if (repeated.Count > 0)
            return Fail("invalid_request", $"The '{repeated[0]}' parameter must not be repeated.");
        // OIDC Core §6: request objects are not supported.
        if (parameters.ContainsKey("request"))
            return Fail("request_not_supported", "Request objects are not supported.");
        if (parameters.ContainsKey("request_uri"))
            return Fail("request_uri_not_supported", "request_uri is not supported.");
        if (!parameters.TryGetValue("response_type", out var responseType))
            return Fail("invalid_request", "response_type is required.");
        // RFC 9700 §2.1.2: no implicit or hybrid flows; the code flow only.
        if (responseType != "code")
            return Fail("unsupported_response_type", "Only response_type=code is supported.");
        if (parameters.TryGetValue("response_mode", out var responseMode) && responseMode != "query")
            return Fail("invalid_request", "Only response_mode=query is supported.");
        if (!client.GrantTypes.Contains(GrantTypes.AuthorizationCode))
            return Fail("unauthorized_client", "This application may not use the authorization code flow.");

        // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE is required, with S256 only ("plain" protects nothing).
        if (!parameters.TryGetValue("code_challenge", out var challenge))
            return Fail("invalid_request", "code_challenge is required (PKCE).");
        if (parameters.GetValueOrDefault("code_challenge_method") != "S256")
            return Fail("invalid_request", "code_challenge_method must be S256.");
        if (!Pkce.IsWellFormed(challenge))
            return Fail("invalid_request", "code_challenge must be 43 to 128 unreserved characters.");

        var requested = parameters.GetValueOrDefault("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (ResolveScopes(requested, client, scopes) is not { } granted)
            return Fail("invalid_scope", "A requested scope is unknown or not allowed for this application.");

        var nonce = parameters.GetValueOrDefault("nonce");
        if (nonce is { Length: > 500 })
            return Fail("invalid_request", "nonce is too long.");

        var prompt = (parameters.GetValueOrDefault("prompt") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (!prompt.IsSubsetOf(PromptValues) || (prompt.Contains("none") && prompt.Count > 1))
            return Fail("invalid_request", "prompt is not valid (OIDC Core §3.1.2.1).");

        var deviceName = parameters.GetValueOrDefault("device_name")?.Trim();
        if (deviceName is { Length: > LinkedDevices.MaxNameLength } || deviceName?.Any(char.IsControl) == true)
            return Fail("invalid_request", $"device_name must be at most {LinkedDevices.MaxNameLength} printable characters.");

        return new AuthorizationValidation.Valid(new AuthorizationRequest(
            client, redirectUri, granted, challenge, state, nonce, prompt, deviceName, parameters));
    }

    /// <summary>
    /// RFC 6749 §3.3: without a <c>scope</c> parameter the client's registered scopes apply (the documented default);
    /// with one, every value must be known and allowed for the client. Null when a scope is refused.
    /// </summary>
    public static string[]? ResolveScopes(string[]? requested, Client client, ScopeCatalog catalog)
    {
        var scopes = requested ?? [.. client.Scopes];
        return scopes.All(s => client.Scopes.Contains(s) && catalog.IsKnown(s)) ? scopes : null;
    }

    /// <summary>
    /// Redirect URIs match exactly (RFC 9700 §2.1). One exception, for native apps (RFC 8252 §7.3): a registered
    /// loopback IP literal URI matches on any port, since the app picks a free port at run time.
    /// </summary>
    public static bool IsRegisteredRedirect(Client client, string redirectUri)
    {
        if (client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal)) return true;
        if (!Uri.TryCreate(redirectUri, UriKind.Absolute, out var presented) || !IsLoopback(presented)) return false;
        return client.RedirectUris.Any(registered =>
            Uri.TryCreate(registered, UriKind.Absolute, out var r) && IsLoopback(r)
            && r.Host == presented.Host
            && r.AbsolutePath == presented.AbsolutePath
            && r.Query == presented.Query
            && presented.Fragment.Length == 0);

        static bool IsLoopback(Uri uri) => uri.Scheme == "http" && uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip);
    }
}

/// <summary>PKCE S256 (RFC 7636 §4.2, §4.6).</summary>
public static partial class Pkce
{
    /// <summary>Verifiers and challenges: 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).</summary>
    public static bool IsWellFormed(string value) => Unreserved().IsMatch(value);

    /// <summary>BASE64URL(SHA256(ASCII(verifier))) == challenge, compared in constant time.</summary>
    public static bool Verify(string verifier, string challenge)
    {
        if (!IsWellFormed(verifier)) return false;
        var computed = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier)));
        return DeviceFlow.OpaqueSecret.FixedTimeEquals(computed, challenge);
    }

    [GeneratedRegex("^[A-Za-z0-9\\-._~]{43,128}$")]
    private static partial Regex Unreserved();
}
