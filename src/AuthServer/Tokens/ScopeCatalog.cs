namespace AuthServer.Tokens;

/// <summary>
/// The scopes this server knows, each with the words the consent page uses for it. Read from the <c>Scopes</c>
/// configuration section (name → description).
/// </summary>
public sealed class ScopeCatalog(IConfiguration configuration)
{
    public const string Section = "Scopes";
    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";

    private readonly Dictionary<string, string> _descriptions =
        configuration.GetSection(Section).Get<Dictionary<string, string>>() ?? [];

    public IEnumerable<string> Names => _descriptions.Keys.Order(StringComparer.Ordinal);

    public bool IsKnown(string scope) => _descriptions.ContainsKey(scope);

    public string Describe(string scope) => _descriptions.GetValueOrDefault(scope, scope);
}
