using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthServer.Cli.Cache;

/// <summary>One signed-in client of one server: what `token`, `status` and `logout` need.</summary>
public sealed record CacheEntry
{
    /// <summary>The issuer (RFC 8414 §2), with its trailing slash: the key, with <see cref="ClientId"/>.</summary>
    public required string Server { get; init; }
    public required string ClientId { get; init; }
    public required string AccessToken { get; init; }
    public required string TokenType { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public string? RefreshToken { get; init; }
    public string? Scope { get; init; }
    public string? Subject { get; init; }
    public string? UserName { get; init; }
    public string? DeviceId { get; init; }
    public required DateTimeOffset SignedInAt { get; init; }
}

/// <summary>
/// The per-user token cache: one JSON file, readable by its owner only (mode 600, in a directory of mode 700), one
/// entry per server and client. The DPoP key lives beside it (<see cref="DpopKeyPath"/>), with the same mode. Refresh
/// tokens are bearer secrets for up to 30 days, so no other local account may read them.
/// </summary>
public sealed class TokenCache(string directory)
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnly | UnixFileMode.UserExecute;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Directory { get; } = directory;
    public string FilePath => Path.Combine(Directory, "tokens.json");
    public string DpopKeyPath => Path.Combine(Directory, "dpop-es256.pem");

    public IReadOnlyList<CacheEntry> Entries()
    {
        if (!File.Exists(FilePath)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<CacheEntry>>(File.ReadAllText(FilePath), Json) ?? [];
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Error, $"The token cache {FilePath} is not valid JSON ({ex.Message}).",
                "Delete it and sign in again.");
        }
    }

    /// <summary>
    /// The entry for a server and client; either may be omitted when exactly one entry matches the rest, so that
    /// `authserver token` needs no arguments after a single login.
    /// </summary>
    public CacheEntry Find(string? server, string? clientId, string? excludeClient = null)
    {
        var issuer = server is null ? null : ServerAddress.Parse(server).Issuer;
        var matches = Entries()
            .Where(e => issuer is null || e.Server == issuer)
            .Where(e => clientId is null ? e.ClientId != excludeClient : e.ClientId == clientId)
            .ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw CliException.NotSignedIn(server is null ? "You are not signed in." : $"You are not signed in to {issuer}."),
            _ => throw CliException.Usage("You are signed in to more than one server or client.",
                "Name one with --server (and --client): " + string.Join(", ", matches.Select(m => $"{m.Server} {m.ClientId}"))),
        };
    }

    public void Save(CacheEntry entry)
    {
        var entries = Entries().Where(e => !(e.Server == entry.Server && e.ClientId == entry.ClientId)).Append(entry).ToList();
        Write(entries);
    }

    public void Remove(CacheEntry entry) =>
        Write(Entries().Where(e => !(e.Server == entry.Server && e.ClientId == entry.ClientId)).ToList());

    private void Write(List<CacheEntry> entries)
    {
        EnsureDirectory();
        // Written to a new file created with mode 600 and renamed over the old one: the secrets are never readable by
        // others, not even for an instant, and a crash leaves the old cache intact.
        var temporary = FilePath + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        using (var stream = new FileStream(temporary, options))
            JsonSerializer.Serialize(stream, entries, Json);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, OwnerOnly);
        File.Move(temporary, FilePath, overwrite: true);
    }

    /// <summary>Writes a secret file beside the cache, mode 600 from its creation.</summary>
    public void WriteSecretFile(string path, string contents)
    {
        EnsureDirectory();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(contents);
    }

    private void EnsureDirectory()
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, OwnerOnlyDirectory);
    }
}
