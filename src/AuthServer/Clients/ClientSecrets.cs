using System.Globalization;

namespace AuthServer.Clients;

/// <summary>
/// A confidential client's secrets through a rotation. The application's secret is a space-separated list of
/// <see cref="ClientSecretHasher"/> hashes, newest first; a hash being rotated out is also listed in the
/// <see cref="ClientSettings.RetiringSecrets"/> setting with the time it stops working, so the old secret keeps
/// working during the overlap and is refused after it, judged by the server's clock.
/// </summary>
public static class ClientSecrets
{
    public sealed record Retiring(string Hash, DateTimeOffset Until);

    public static IReadOnlyList<string> Hashes(string? clientSecret) =>
        clientSecret?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    public static IReadOnlyList<Retiring> RetiringOf(IReadOnlyDictionary<string, string> settings)
    {
        if (!settings.TryGetValue(ClientSettings.RetiringSecrets, out var value)) return [];
        var retiring = new List<Retiring>();
        foreach (var entry in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = entry.LastIndexOf('|');
            if (separator > 0 && long.TryParse(entry[(separator + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                retiring.Add(new Retiring(entry[..separator], DateTimeOffset.FromUnixTimeSeconds(seconds)));
        }
        return retiring;
    }

    /// <summary>The setting's value for <paramref name="retiring"/>, or null when nothing is being rotated out.</summary>
    public static string? Format(IEnumerable<Retiring> retiring)
    {
        var value = string.Join(' ', retiring.Select(r => $"{r.Hash}|{r.Until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}"));
        return value.Length == 0 ? null : value;
    }

    /// <summary>The hashes a presented secret may match at <paramref name="now"/>: all but those whose overlap has ended.</summary>
    public static IReadOnlyList<string> Live(string? clientSecret, IReadOnlyDictionary<string, string> settings, DateTimeOffset now)
    {
        var ended = RetiringOf(settings).Where(r => r.Until <= now).Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
        return [.. Hashes(clientSecret).Where(h => !ended.Contains(h))];
    }

    /// <summary>
    /// A rotation to <paramref name="newHash"/>: the secrets still live keep working for <paramref name="overlap"/> (or
    /// until their own earlier end), and stop at once when it is zero.
    /// </summary>
    public static (string ClientSecret, string? Retiring) Rotate(
        string newHash, string? clientSecret, IReadOnlyDictionary<string, string> settings, DateTimeOffset now, TimeSpan overlap)
    {
        var ends = RetiringOf(settings).ToDictionary(r => r.Hash, r => r.Until, StringComparer.Ordinal);
        var kept = overlap <= TimeSpan.Zero ? [] : Live(clientSecret, settings, now)
            .Select(h => new Retiring(h, ends.TryGetValue(h, out var until) && until < now + overlap ? until : now + overlap))
            .ToList();
        return (ClientManager.JoinHashes([newHash, .. kept.Select(k => k.Hash)]), Format(kept));
    }

    /// <summary>Ends the overlap now: only the newest secret keeps working.</summary>
    public static string RetireOld(string? clientSecret, IReadOnlyDictionary<string, string> settings, DateTimeOffset now) =>
        Live(clientSecret, settings, now).FirstOrDefault() ?? "";

    /// <summary>A short, stable name for a hash, so an admin can tell secrets apart without seeing them.</summary>
    public static string Fingerprint(string hash) => hash.Length > 15 ? hash[7..15] : hash;
}
