namespace AuthServer.Cli;

/// <summary>A server given on the command line: an absolute http or https URL of the issuer, without query or fragment.</summary>
public sealed record ServerAddress(Uri Origin)
{
    /// <summary>The issuer as AuthServer writes it, with a trailing slash (RFC 8414 §2).</summary>
    public string Issuer => Origin.AbsoluteUri.EndsWith('/') ? Origin.AbsoluteUri : Origin.AbsoluteUri + "/";

    public static ServerAddress Parse(string text)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw CliException.Usage($"'{text}' is not a server URL.", "Give the server's address, e.g. --server https://login.example.com");
        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            throw CliException.Usage($"'{text}' is not a server URL: it must have no query, fragment or user name.");
        return new ServerAddress(uri);
    }

    public Uri Resolve(string relative) => new(new Uri(Issuer), relative);
}
