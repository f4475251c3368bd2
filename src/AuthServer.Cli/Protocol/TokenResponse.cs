using System.Text.Json.Nodes;
using AuthServer.Cli.Cache;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Cli.Protocol;

/// <summary>Turns a token response (RFC 6749 §5.1) into a cache entry, and refreshes one (§6).</summary>
public static class TokenResponse
{
    /// <summary>A token is refreshed when less than this is left, so a script never hands on one that expires in flight.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    public static CacheEntry ToEntry(Answer answer, ServerAddress server, string clientId, DateTimeOffset now, CacheEntry? previous = null)
    {
        var accessToken = answer.Text("access_token");
        var expiresIn = answer.Json?["expires_in"]?.GetValue<long>() ?? 0;
        // The ID token came straight from the token endpoint, so its claims are only read for display (OIDC Core
        // §3.1.3.7 allows skipping its signature check then); nothing here trusts them for a decision.
        string? subject = previous?.Subject, userName = previous?.UserName, deviceId = previous?.DeviceId;
        if (answer.Json?["id_token"]?.GetValue<string>() is { } idToken && TryRead(idToken) is { } id)
        {
            subject = Claim(id, "sub") ?? subject;
            userName = Claim(id, "preferred_username") ?? Claim(id, "email") ?? Claim(id, "name") ?? userName;
        }
        if (TryRead(accessToken) is { } access)
        {
            subject ??= Claim(access, "sub");
            deviceId = Claim(access, "device_id") ?? deviceId;
        }
        return new CacheEntry
        {
            Server = server.Issuer,
            ClientId = clientId,
            AccessToken = accessToken,
            TokenType = answer.Json?["token_type"]?.GetValue<string>() ?? "Bearer",
            ExpiresAt = now.AddSeconds(expiresIn),
            // RFC 6749 §6: a refresh answer may omit the refresh token, which then stays the same.
            RefreshToken = answer.Json?["refresh_token"]?.GetValue<string>() ?? previous?.RefreshToken,
            Scope = answer.Json?["scope"]?.GetValue<string>() ?? previous?.Scope,
            Subject = subject,
            UserName = userName,
            DeviceId = deviceId,
            SignedInAt = previous?.SignedInAt ?? now,
        };
    }

    /// <summary>The entry with an access token that is good for at least <see cref="RefreshMargin"/>, refreshed and saved if it was not.</summary>
    public static async Task<(CacheEntry Entry, bool Refreshed)> FreshAsync(CacheEntry entry, ServerClient client, TokenCache cache,
        TimeProvider time, CancellationToken cancellation)
    {
        if (entry.ExpiresAt - time.GetUtcNow() > RefreshMargin) return (entry, false);
        if (entry.RefreshToken is null)
            throw CliException.NotSignedIn($"Your login to {entry.Server} has expired.");
        var endpoints = await client.EndpointsAsync(cancellation);
        var answer = await client.PostFormAsync(endpoints.Token, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = entry.ClientId,
            ["refresh_token"] = entry.RefreshToken,
        }, cancellation);
        if (!answer.Ok)
        {
            // invalid_grant: the refresh token expired, was revoked, or its device was logged out (RFC 6749 §5.2).
            if (answer.Error == "invalid_grant")
            {
                cache.Remove(entry);
                throw CliException.NotSignedIn($"Your login to {entry.Server} has expired or was logged out ({answer.Describe()}).");
            }
            throw new CliException(ExitCodes.Error, $"The refresh failed: {answer.Describe()}");
        }
        var refreshed = ToEntry(answer, client.Server, entry.ClientId, time.GetUtcNow(), entry);
        cache.Save(refreshed);
        return (refreshed, true);
    }

    private static JsonWebToken? TryRead(string jwt)
    {
        try { return new JsonWebToken(jwt); }
        catch (ArgumentException) { return null; }
    }

    private static string? Claim(JsonWebToken token, string type) =>
        token.TryGetPayloadValue<string>(type, out var value) ? value : null;
}
