using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.Data.Sqlite;

namespace AuthServer.Tokens;

/// <summary>
/// The statements every redemption, refresh and protected call runs, written by hand for <see cref="SqliteLanes"/>
/// (see <see cref="DeviceFlow.DeviceAuthorizationSql"/> for why). Writers run inside the caller's transaction on the
/// lane, which holds the write gate. The SQL is SQLite's and maps columns as the EF model does.
/// </summary>
public static class GrantSql
{
    private const string UserColumns =
        "u.\"Id\", u.\"UserName\", u.\"Email\", u.\"EmailConfirmed\", u.\"DisplayName\", u.\"LockoutEnabled\", u.\"LockoutEnd\"";

    /// <summary>The account with the fields tokens are made of (and its lockout), or null when it was deleted.</summary>
    public static ApplicationUser? FindUser(Lane lane, string id)
    {
        var command = lane.Command($"SELECT {UserColumns} FROM \"AspNetUsers\" AS u WHERE u.\"Id\" = $id");
        command.Parameters.Bind("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadUser(reader, 0) : null;
    }

    private static ApplicationUser ReadUser(SqliteDataReader reader, int first) => new()
    {
        Id = reader.GetString(first),
        UserName = reader.StringOrNull(first + 1),
        Email = reader.StringOrNull(first + 2),
        EmailConfirmed = reader.GetBoolean(first + 3),
        DisplayName = reader.StringOrNull(first + 4),
        LockoutEnabled = reader.GetBoolean(first + 5),
        LockoutEnd = reader.TimeOrNull(first + 6),
    };

    public static void InsertLinkedDevice(Lane lane, LinkedDevice device)
    {
        var command = lane.Command(
            "INSERT INTO \"LinkedDevices\" (\"Id\", \"UserId\", \"ClientId\", \"Name\", \"CreatedAt\", \"LastUsedAt\", \"LastIp\", \"UserAgent\", \"RevokedAt\") " +
            "VALUES ($id, $user, $client, $name, $created, $used, $ip, $agent, NULL)");
        command.Parameters.Bind("$id", device.Id);
        command.Parameters.Bind("$user", device.UserId);
        command.Parameters.Bind("$client", device.ClientId);
        command.Parameters.Bind("$name", device.Name);
        command.Parameters.Bind("$created", device.CreatedAt);
        command.Parameters.Bind("$used", device.LastUsedAt);
        command.Parameters.Bind("$ip", device.LastIp);
        command.Parameters.Bind("$agent", device.UserAgent);
        command.ExecuteNonQuery();
    }

    public static void InsertRefreshToken(Lane lane, RefreshToken token)
    {
        var command = lane.Command(
            "INSERT INTO \"RefreshTokens\" (\"Id\", \"TokenHash\", \"FamilyId\", \"ClientId\", \"UserId\", \"LinkedDeviceId\", \"Scope\", " +
            "\"AuthTime\", \"CreatedAt\", \"ExpiresAt\", \"ConsumedAt\", \"RevokedAt\", \"FamilyExpiresAt\", \"ReplacedById\", \"Jkt\") " +
            "VALUES ($id, $hash, $family, $client, $user, $device, $scope, $auth, $created, $expires, NULL, NULL, $familyExpires, NULL, $jkt)");
        command.Parameters.Bind("$id", token.Id);
        command.Parameters.Bind("$hash", token.TokenHash);
        command.Parameters.Bind("$family", token.FamilyId);
        command.Parameters.Bind("$client", token.ClientId);
        command.Parameters.Bind("$user", token.UserId);
        command.Parameters.Bind("$device", token.LinkedDeviceId);
        command.Parameters.Bind("$scope", token.Scope);
        command.Parameters.Bind("$auth", token.AuthTime);
        command.Parameters.Bind("$created", token.CreatedAt);
        command.Parameters.Bind("$expires", token.ExpiresAt);
        command.Parameters.Bind("$familyExpires", token.FamilyExpiresAt);
        command.Parameters.Bind("$jkt", token.Jkt);
        command.ExecuteNonQuery();
    }

    /// <summary>A presented refresh token with its device and account, in one read.</summary>
    public sealed record Presented(RefreshToken Token, LinkedDevice? Device, ApplicationUser? User);

    public static Presented? FindRefreshToken(Lane lane, string tokenHash)
    {
        var command = lane.Command(
            "SELECT t.\"Id\", t.\"TokenHash\", t.\"FamilyId\", t.\"ClientId\", t.\"UserId\", t.\"LinkedDeviceId\", t.\"Scope\", t.\"AuthTime\", " +
            "t.\"CreatedAt\", t.\"ExpiresAt\", t.\"ConsumedAt\", t.\"RevokedAt\", t.\"FamilyExpiresAt\", t.\"ReplacedById\", t.\"Jkt\", " +
            "d.\"Id\", d.\"UserId\", d.\"ClientId\", d.\"Name\", d.\"CreatedAt\", d.\"LastUsedAt\", d.\"RevokedAt\", " +
            $"{UserColumns} " +
            "FROM \"RefreshTokens\" AS t " +
            "LEFT JOIN \"LinkedDevices\" AS d ON d.\"Id\" = t.\"LinkedDeviceId\" " +
            "LEFT JOIN \"AspNetUsers\" AS u ON u.\"Id\" = t.\"UserId\" " +
            "WHERE t.\"TokenHash\" = $hash");
        command.Parameters.Bind("$hash", tokenHash);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var token = new RefreshToken
        {
            Id = reader.GetString(0),
            TokenHash = reader.GetString(1),
            FamilyId = reader.GetString(2),
            ClientId = reader.GetString(3),
            UserId = reader.GetString(4),
            LinkedDeviceId = reader.GetString(5),
            Scope = reader.GetString(6),
            AuthTime = reader.Time(7),
            CreatedAt = reader.Time(8),
            ExpiresAt = reader.Time(9),
            ConsumedAt = reader.TimeOrNull(10),
            RevokedAt = reader.TimeOrNull(11),
            FamilyExpiresAt = reader.Time(12),
            ReplacedById = reader.StringOrNull(13),
            Jkt = reader.StringOrNull(14),
        };
        var device = reader.IsDBNull(15) ? null : new LinkedDevice
        {
            Id = reader.GetString(15),
            UserId = reader.GetString(16),
            ClientId = reader.GetString(17),
            Name = reader.GetString(18),
            CreatedAt = reader.Time(19),
            LastUsedAt = reader.Time(20),
            RevokedAt = reader.TimeOrNull(21),
        };
        var user = reader.IsDBNull(22) ? null : ReadUser(reader, 22);
        return new Presented(token, device, user);
    }

    /// <summary>
    /// A first use: consumes the token and names its successor, if nobody consumed or revoked it meanwhile. One
    /// statement, so of concurrent uses exactly one wins.
    /// </summary>
    public static bool Consume(Lane lane, string id, string successorId, DateTimeOffset now)
    {
        var command = lane.Command(
            "UPDATE \"RefreshTokens\" SET \"ConsumedAt\" = $now, \"ReplacedById\" = $successor " +
            "WHERE \"Id\" = $id AND \"ConsumedAt\" IS NULL AND \"RevokedAt\" IS NULL");
        command.Parameters.Bind("$now", now);
        command.Parameters.Bind("$successor", successorId);
        command.Parameters.Bind("$id", id);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// A retry within the leeway: revokes the successor that was never used and names the new one in its place.
    /// False when the successor was used or replaced meanwhile.
    /// </summary>
    public static bool Replace(Lane lane, string id, string unusedSuccessorId, string newSuccessorId, DateTimeOffset now)
    {
        var revoke = lane.Command(
            "UPDATE \"RefreshTokens\" SET \"RevokedAt\" = $now WHERE \"Id\" = $id AND \"ConsumedAt\" IS NULL AND \"RevokedAt\" IS NULL");
        revoke.Parameters.Bind("$now", now);
        revoke.Parameters.Bind("$id", unusedSuccessorId);
        if (revoke.ExecuteNonQuery() != 1) return false;

        var link = lane.Command("UPDATE \"RefreshTokens\" SET \"ReplacedById\" = $successor WHERE \"Id\" = $id");
        link.Parameters.Bind("$successor", newSuccessorId);
        link.Parameters.Bind("$id", id);
        link.ExecuteNonQuery();
        return true;
    }

    /// <summary>Records a use of a device that is still signed in; false when it was logged out meanwhile.</summary>
    public static bool TouchDevice(Lane lane, string deviceId, DateTimeOffset now, string? ip, string? userAgent)
    {
        var command = lane.Command(
            "UPDATE \"LinkedDevices\" SET \"LastUsedAt\" = $now, \"LastIp\" = $ip, \"UserAgent\" = $agent WHERE \"Id\" = $id AND \"RevokedAt\" IS NULL");
        command.Parameters.Bind("$now", now);
        command.Parameters.Bind("$ip", ip);
        command.Parameters.Bind("$agent", userAgent);
        command.Parameters.Bind("$id", deviceId);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The token's device is still signed in, and the token (by <c>jti</c>) was not revoked.</summary>
    public static bool IsAccessTokenActive(Lane lane, string deviceId, string subject, string jti)
    {
        var command = lane.Command(
            "SELECT EXISTS (SELECT 1 FROM \"LinkedDevices\" WHERE \"Id\" = $device AND \"UserId\" = $subject AND \"RevokedAt\" IS NULL) " +
            "AND NOT EXISTS (SELECT 1 FROM \"RevokedAccessTokens\" WHERE \"Jti\" = $jti)");
        command.Parameters.Bind("$device", deviceId);
        command.Parameters.Bind("$subject", subject);
        command.Parameters.Bind("$jti", jti);
        return Convert.ToInt64(command.ExecuteScalar()) == 1;
    }
}
