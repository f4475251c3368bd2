using System.Data.Common;
using AuthServer.Data;
using AuthServer.Data.Entities;

namespace AuthServer.DeviceFlow;

/// <summary>
/// The statements on a login request's hot path, written by hand and run by the provider's <see cref="StatementRunner"/>
/// (on SQLite's lanes or PostgreSQL's pool), where they stay prepared. Every whole login runs each of them once, so they skip EF's query pipeline (expression trees, the
/// compiled-query cache, change tracking), which cost more than the statements themselves. Each transition is still
/// one conditional UPDATE, and <c>RETURNING</c> hands back the row as it now is, so no read follows a write. The rare
/// paths (classifying a refusal) stay in EF.
/// </summary>
/// <remarks>
/// The SQL is the part SQLite and PostgreSQL share, so one text serves both: double-quoted identifiers, <c>@name</c>
/// parameters, <c>CASE</c> instead of SQLite's arithmetic on booleans, <c>IS DISTINCT FROM</c> for a comparison that
/// treats nulls as values. Times are stored as Unix milliseconds and statuses by name, as the EF model maps them
/// (<see cref="AuthServerDbContext"/>); the schema tests and the whole test suite run through these statements on both.
/// </remarks>
public sealed class DeviceAuthorizationSql(StatementRunner runner)
{
    private const string Table = "\"DeviceAuthorizations\"";

    /// <summary>The columns of <see cref="DeviceAuthorizationState"/>, in its order.</summary>
    private const string StateColumns =
        "\"Id\", \"UserCode\", \"ClientId\", \"Scope\", \"DeviceName\", \"RequesterIp\", \"RequesterUserAgent\", \"CreatedAt\", " +
        "\"ExpiresAt\", \"IntervalSeconds\", \"Status\", \"Version\", \"SubjectId\", \"DecidedAt\", \"MatchNumber\", \"DpopJkt\"";

    public async Task InsertAsync(DeviceAuthorization entity, CancellationToken cancellationToken)
    {
        const string sql =
            $"INSERT INTO {Table} (\"Id\", \"DeviceCodeHash\", \"UserCode\", \"ClientId\", \"Scope\", \"DeviceName\", \"RequesterIp\", " +
            "\"RequesterUserAgent\", \"CreatedAt\", \"ExpiresAt\", \"IntervalSeconds\", \"Status\", \"Version\", \"WrongNumber\", \"DpopJkt\") " +
            "VALUES (@id, @hash, @code, @client, @scope, @name, @ip, @agent, @created, @expires, @interval, @status, 0, FALSE, @jkt)";
        await runner.WriteAsync(sql, parameters =>
        {
            parameters.Bind("@id", entity.Id);
            parameters.Bind("@hash", entity.DeviceCodeHash);
            parameters.Bind("@code", entity.UserCode);
            parameters.Bind("@client", entity.ClientId);
            parameters.Bind("@scope", entity.Scope);
            parameters.Bind("@name", entity.DeviceName);
            parameters.Bind("@ip", entity.RequesterIp);
            parameters.Bind("@agent", entity.RequesterUserAgent);
            parameters.Bind("@created", entity.CreatedAt);
            parameters.Bind("@expires", entity.ExpiresAt);
            parameters.Bind("@interval", entity.IntervalSeconds);
            parameters.Bind("@status", entity.Status);
            parameters.Bind("@jkt", entity.DpopJkt);
        }, cancellationToken);
    }

    public Task<DeviceAuthorizationState?> FindByIdAsync(string id, CancellationToken cancellationToken) =>
        ReadOneAsync($"SELECT {StateColumns} FROM {Table} WHERE \"Id\" = @value", id, cancellationToken);

    public Task<DeviceAuthorizationState?> FindByDeviceCodeHashAsync(string hash, CancellationToken cancellationToken) =>
        ReadOneAsync($"SELECT {StateColumns} FROM {Table} WHERE \"DeviceCodeHash\" = @value", hash, cancellationToken);

    public Task<DeviceAuthorizationState?> FindByUserCodeAsync(string userCode, CancellationToken cancellationToken) =>
        ReadOneAsync($"SELECT {StateColumns} FROM {Table} WHERE \"UserCode\" = @value", userCode, cancellationToken);

    /// <summary>
    /// Pending → Scanned for <paramref name="userId"/>, or a repeat scan by the account that already holds the claim.
    /// With a ticket, the phone's confirm ticket replaces any earlier one. The row as it now is, or null when the
    /// request was not open or is claimed by another account.
    /// </summary>
    public async Task<DeviceAuthorizationState?> ClaimAsync(
        string id, string userId, int? matchNumber, Ticket? ticket, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sql = ticket is null ? ClaimSql : ClaimWithTicketSql;
        return await WriteAsync(sql, parameters =>
        {
            parameters.Bind("@id", id);
            parameters.Bind("@user", userId);
            parameters.Bind("@now", now);
            parameters.Bind("@match", matchNumber);
            if (ticket is not null)
            {
                parameters.Bind("@ticket", ticket.Hash);
                parameters.Bind("@ticketExpires", ticket.ExpiresAt);
                parameters.Bind("@phone", ticket.PhoneDeviceId);
            }
        }, cancellationToken);
    }

    /// <summary>A confirm ticket to store with a scan: its hash, expiry (capped by the request's) and the phone.</summary>
    public sealed record Ticket(string Hash, DateTimeOffset ExpiresAt, string PhoneDeviceId);

    /// <summary>
    /// Scanned → Approved or Denied by the claiming account. An approval with a wrong match number becomes a denial
    /// (the number is checked in the same statement). With a ticket hash, only the phone holding the current,
    /// unexpired ticket decides, and the ticket is spent either way. Null when nothing moved.
    /// </summary>
    public async Task<DeviceAuthorizationState?> DecideAsync(
        string id, string userId, bool approve, int? number, string? ticketHash, string? phoneDeviceId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var sql = ticketHash is null ? DecideSql : DecideWithTicketSql;
        return await WriteAsync(sql, parameters =>
        {
            parameters.Bind("@id", id);
            parameters.Bind("@user", userId);
            parameters.Bind("@approve", approve);
            parameters.Bind("@number", number);
            parameters.Bind("@now", now);
            if (ticketHash is not null)
            {
                parameters.Bind("@ticket", ticketHash);
                parameters.Bind("@phone", phoneDeviceId);
            }
        }, cancellationToken);
    }

    /// <summary>Pending/Scanned → Superseded: the waiting screen replaced its QR code. Null when it was no longer open.</summary>
    public Task<DeviceAuthorizationState?> SupersedeAsync(string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(SupersedeSql, parameters =>
        {
            parameters.Bind("@id", id);
            parameters.Bind("@now", now);
        }, cancellationToken);

    /// <summary>Approved → Redeemed, recording the linked device. Null when it lost (or was not approved).</summary>
    public Task<DeviceAuthorizationState?> RedeemAsync(string id, string linkedDeviceId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(RedeemSql, parameters =>
        {
            parameters.Bind("@id", id);
            parameters.Bind("@device", linkedDeviceId);
            parameters.Bind("@now", now);
        }, cancellationToken);

    /// <summary>
    /// PostgreSQL only, where the polling bookkeeping lives in the row so that every node gives the same answer: records
    /// a poll of a pending or scanned request and tells whether it came too soon after the previous one (RFC 8628
    /// §3.5), raising the interval by 5 seconds if so, in one statement. Null when the request is no longer pending
    /// or scanned (or has expired): the caller reads it to say why.
    /// </summary>
    /// <remarks>
    /// The first step locks the row (<c>FOR UPDATE</c>) and reads the previous poll; a concurrent poll on another node
    /// waits for that lock and then reads the row as this one left it, so of two polls that come too close together
    /// the second is the one slowed down, whichever node serves it. <c>RETURNING</c> sees only the new row, hence the
    /// verdict is carried over from the first step.
    /// </remarks>
    public Task<PollRecord?> PollAsync(string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        runner.WriteRowAsync(PollSql, parameters =>
        {
            parameters.Bind("@id", id);
            parameters.Bind("@now", now);
            parameters.Bind("@jitter", (int)LiveRequest.Jitter.TotalMilliseconds);
        }, reader => new PollRecord(ReadState(reader), reader.GetBoolean(StateColumnCount)), cancellationToken);

    /// <summary>A pending poll's verdict and the request as the poll left it.</summary>
    public sealed record PollRecord(DeviceAuthorizationState State, bool TooFast);

    private const int StateColumnCount = 16;

    private static readonly string PollSql =
        "WITH previous AS (SELECT \"Id\" AS previous_id, \"IntervalSeconds\" AS previous_interval, " +
        "(\"LastPolledAt\" IS NOT NULL AND @now - \"LastPolledAt\" < \"IntervalSeconds\" * 1000 - @jitter) AS too_fast " +
        $"FROM {Table} WHERE \"Id\" = @id AND \"Status\" IN ('{nameof(DeviceAuthorizationStatus.Pending)}', '{nameof(DeviceAuthorizationStatus.Scanned)}') " +
        "AND \"ExpiresAt\" > @now FOR UPDATE) " +
        $"UPDATE {Table} SET \"LastPolledAt\" = @now, \"IntervalSeconds\" = CASE WHEN previous.too_fast " +
        $"THEN LEAST(previous.previous_interval + {LiveRequest.SlowDownIncrementSeconds}, {LiveRequest.MaxIntervalSeconds}) ELSE previous.previous_interval END " +
        $"FROM previous WHERE \"Id\" = previous.previous_id RETURNING {StateColumns}, previous.too_fast";

    private static readonly string Scanned = nameof(DeviceAuthorizationStatus.Scanned);
    private static readonly string Approved = nameof(DeviceAuthorizationStatus.Approved);
    private static readonly string Denied = nameof(DeviceAuthorizationStatus.Denied);
    private static readonly string Redeemed = nameof(DeviceAuthorizationStatus.Redeemed);

    // Both databases evaluate every SET expression on the row as it was, so "Status" below is always the old status.
    private static string Claim(bool withTicket) =>
        $"UPDATE {Table} SET " +
        $"\"Version\" = CASE WHEN \"Status\" = '{Scanned}' THEN \"Version\" ELSE \"Version\" + 1 END, " +
        $"\"ScannedAt\" = CASE WHEN \"Status\" = '{Scanned}' THEN \"ScannedAt\" ELSE @now END, " +
        $"\"MatchNumber\" = CASE WHEN \"Status\" = '{Scanned}' THEN \"MatchNumber\" ELSE @match END, " +
        $"\"Status\" = '{Scanned}', \"SubjectId\" = @user" +
        (withTicket ? ", \"ConfirmTicketHash\" = @ticket, \"ConfirmTicketExpiresAt\" = @ticketExpires, \"ConfirmTicketDeviceId\" = @phone" : "") +
        " WHERE \"Id\" = @id AND \"ExpiresAt\" > @now" +
        $" AND (\"Status\" IN ({SourcesOf(DeviceAuthorizationStatus.Scanned)}) OR (\"Status\" = '{Scanned}' AND \"SubjectId\" = @user))" +
        $" RETURNING {StateColumns}";

    private static readonly string ClaimSql = Claim(withTicket: false);
    private static readonly string ClaimWithTicketSql = Claim(withTicket: true);

    private static string Decide(bool withTicket) =>
        $"UPDATE {Table} SET " +
        $"\"Status\" = CASE WHEN @approve AND (\"MatchNumber\" IS NULL OR \"MatchNumber\" = @number) THEN '{Approved}' ELSE '{Denied}' END, " +
        "\"WrongNumber\" = (@approve AND \"MatchNumber\" IS NOT NULL AND \"MatchNumber\" IS DISTINCT FROM @number), " +
        "\"DecidedAt\" = @now, \"ConfirmTicketHash\" = NULL, \"ConfirmTicketExpiresAt\" = NULL, \"Version\" = \"Version\" + 1" +
        " WHERE \"Id\" = @id AND \"SubjectId\" = @user AND \"ExpiresAt\" > @now" +
        $" AND \"Status\" IN ({SourcesOf(DeviceAuthorizationStatus.Denied)})" +
        $" AND (NOT @approve OR \"Status\" IN ({SourcesOf(DeviceAuthorizationStatus.Approved)}))" +
        (withTicket ? " AND \"ConfirmTicketHash\" = @ticket AND \"ConfirmTicketDeviceId\" = @phone AND \"ConfirmTicketExpiresAt\" > @now" : "") +
        $" RETURNING {StateColumns}";

    private static readonly string DecideSql = Decide(withTicket: false);
    private static readonly string DecideWithTicketSql = Decide(withTicket: true);

    private static readonly string SupersedeSql =
        $"UPDATE {Table} SET \"Status\" = '{nameof(DeviceAuthorizationStatus.Superseded)}', \"DecidedAt\" = @now, \"Version\" = \"Version\" + 1" +
        $" WHERE \"Id\" = @id AND \"Status\" IN ({SourcesOf(DeviceAuthorizationStatus.Superseded)}) AND \"ExpiresAt\" > @now" +
        $" RETURNING {StateColumns}";

    private static readonly string RedeemSql =
        $"UPDATE {Table} SET \"Status\" = '{Redeemed}', \"RedeemedAt\" = @now, \"LinkedDeviceId\" = @device, \"Version\" = \"Version\" + 1" +
        $" WHERE \"Id\" = @id AND \"Status\" IN ({SourcesOf(DeviceAuthorizationStatus.Redeemed)}) AND \"ExpiresAt\" > @now" +
        $" RETURNING {StateColumns}";

    /// <summary>The SQL list of the states that may move to <paramref name="to"/>, from the one transition table.</summary>
    private static string SourcesOf(DeviceAuthorizationStatus to) =>
        string.Join(", ", DeviceAuthorizationTransitions.SourcesOf(to).Select(s => $"'{s}'"));

    private Task<DeviceAuthorizationState?> ReadOneAsync(string sql, string value, CancellationToken cancellationToken) =>
        runner.ReadRowAsync(sql, parameters => parameters.Bind("@value", value), ReadState, cancellationToken);

    private Task<DeviceAuthorizationState?> WriteAsync(string sql, Action<StatementParameters> bind, CancellationToken cancellationToken) =>
        runner.WriteRowAsync(sql, bind, ReadState, cancellationToken);

    private static DeviceAuthorizationState ReadState(DbDataReader reader) =>
        new(
            reader.GetString(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.GetString(3),
            reader.StringOrNull(4),
            reader.StringOrNull(5),
            reader.StringOrNull(6),
            reader.Time(7),
            reader.Time(8),
            reader.GetInt32(9),
            Enum.Parse<DeviceAuthorizationStatus>(reader.GetString(10)),
            reader.GetInt32(11),
            reader.StringOrNull(12),
            reader.TimeOrNull(13),
            reader.IsDBNull(14) ? null : reader.GetInt32(14),
            reader.StringOrNull(15));
}
