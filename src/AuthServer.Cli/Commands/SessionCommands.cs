using System.Globalization;
using System.Text.Json.Nodes;
using AuthServer.Cli.Cache;
using AuthServer.Cli.Protocol;

namespace AuthServer.Cli.Commands;

/// <summary>`token`, `status` and `logout`: what a signed-in CLI does with its cache entry.</summary>
public static class SessionCommands
{
    /// <summary>Prints a fresh access token, alone on its line, for <c>$(authserver token)</c>.</summary>
    public static async Task<int> TokenAsync(CliContext context, string? server, string? clientId, bool json, CancellationToken cancellation)
    {
        var cache = context.Cache();
        var entry = cache.Find(server, clientId, excludeClient: PhoneCommands.PhoneClient);
        using var key = DpopKey.LoadOrCreate(cache, context.Time);
        using var client = new ServerClient(ServerAddress.Parse(entry.Server), key, context);
        var (fresh, refreshed) = await TokenResponse.FreshAsync(entry, client, cache, context.Time, cancellation);
        if (json)
        {
            context.Output(json).WriteJson(new JsonObject
            {
                ["access_token"] = fresh.AccessToken,
                ["token_type"] = fresh.TokenType,
                ["expires_at"] = fresh.ExpiresAt.ToString("O"),
                ["refreshed"] = refreshed,
            });
        }
        else
        {
            context.Out.WriteLine(fresh.AccessToken);
        }
        return ExitCodes.Ok;
    }

    public static int Status(CliContext context, string? server, bool json)
    {
        var output = context.Output(json);
        var cache = context.Cache();
        var issuer = server is null ? null : ServerAddress.Parse(server).Issuer;
        var entries = cache.Entries().Where(e => issuer is null || e.Server == issuer).ToList();
        var now = context.Time.GetUtcNow();
        if (json)
        {
            output.WriteJson(new JsonArray(entries.Select(e => (JsonNode)new JsonObject
            {
                ["server"] = e.Server,
                ["client_id"] = e.ClientId,
                ["user"] = e.UserName,
                ["subject"] = e.Subject,
                ["device_id"] = e.DeviceId,
                ["scope"] = e.Scope,
                ["token_type"] = e.TokenType,
                ["signed_in_at"] = e.SignedInAt.ToString("O"),
                ["access_token_expires_at"] = e.ExpiresAt.ToString("O"),
                ["access_token_valid"] = e.ExpiresAt > now,
                ["can_refresh"] = e.RefreshToken is not null,
            }).ToArray()));
            return entries.Count == 0 ? ExitCodes.NotSignedIn : ExitCodes.Ok;
        }
        if (entries.Count == 0)
        {
            output.Failure(CliException.NotSignedIn(issuer is null ? "You are not signed in." : $"You are not signed in to {issuer}."));
            return ExitCodes.NotSignedIn;
        }
        foreach (var e in entries)
        {
            output.Line(output.Bold(e.Server) + $" ({e.ClientId})");
            output.Line($"  signed in as   {e.UserName ?? e.Subject ?? "(unknown)"}");
            output.Line($"  since          {Local(e.SignedInAt)}");
            var left = e.ExpiresAt - now;
            output.Line("  access token   " + (left > TimeSpan.Zero
                ? output.Green($"valid until {Local(e.ExpiresAt)}") + $" ({Minutes(left)} left, {e.TokenType})"
                : output.Yellow($"expired at {Local(e.ExpiresAt)}") + (e.RefreshToken is null ? "" : "; `authserver token` refreshes it")));
            if (e.Scope is not null) output.Line($"  scope          {e.Scope}");
            if (e.DeviceId is not null) output.Line($"  device         {e.DeviceId}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Revokes the refresh token (RFC 7009), which logs the linked device out and so ends its access tokens too, then
    /// forgets the entry. An unreachable server leaves the entry in place, so that the logout can be retried.
    /// </summary>
    public static async Task<int> LogoutAsync(CliContext context, string? server, string? clientId, bool json, CancellationToken cancellation)
    {
        var output = context.Output(json);
        var cache = context.Cache();
        var entry = cache.Find(server, clientId, excludeClient: clientId is null ? PhoneCommands.PhoneClient : null);
        using var key = DpopKey.LoadOrCreate(cache, context.Time);
        using var client = new ServerClient(ServerAddress.Parse(entry.Server), key, context);
        await RevokeAsync(client, entry, cancellation);
        cache.Remove(entry);
        if (json) output.WriteJson(new JsonObject { ["server"] = entry.Server, ["client_id"] = entry.ClientId, ["logged_out"] = true });
        else output.Line($"{output.Green("✓")} Logged out of {entry.Server} ({entry.ClientId}).");
        return ExitCodes.Ok;
    }

    public static async Task RevokeAsync(ServerClient client, CacheEntry entry, CancellationToken cancellation)
    {
        var endpoints = await client.EndpointsAsync(cancellation);
        if (endpoints.Revocation is null)
            throw new CliException(ExitCodes.Error, $"{entry.Server} publishes no revocation endpoint; the login was kept.");
        var (token, hint) = entry.RefreshToken is { } refresh ? (refresh, "refresh_token") : (entry.AccessToken, "access_token");
        var answer = await client.PostFormAsync(endpoints.Revocation, new Dictionary<string, string>
        {
            ["client_id"] = entry.ClientId,
            ["token"] = token,
            ["token_type_hint"] = hint,
        }, cancellation, dpop: false);
        // RFC 7009 §2.2: 200 whether or not the token was still valid.
        if (!answer.Ok) throw new CliException(ExitCodes.Error, $"The server refused the logout: {answer.Describe()}; the login was kept.");
    }

    private static string Local(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    private static string Minutes(TimeSpan span) => span.TotalMinutes >= 1
        ? $"{(int)span.TotalMinutes} min"
        : $"{(int)span.TotalSeconds} s";
}
