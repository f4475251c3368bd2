using AuthServer.Data.Entities;

namespace AuthServer.Data.Stores;

/// <summary>
/// The authorizations (linked devices) read in this request, shared by the request's <see cref="AuthorizationStore"/>
/// and <see cref="TokenStore"/> (all three are scoped). A token is read together with its authorization in one
/// statement, and OpenIddict's authorization entry validation then finds that row here instead of asking the database a
/// second time within the same request. Both rows come from one read, so a revocation committed before it is seen in
/// both; one committed after it fails this request's writes through their concurrency checks, as before.
/// </summary>
public sealed class ReadAuthorizations
{
    private readonly Dictionary<string, Authorization> _read = new(StringComparer.Ordinal);
    // The status each remembered authorization has in its row, to tell a revocation from a write of a revoked one.
    private readonly Dictionary<string, string?> _storedStatus = new(StringComparer.Ordinal);

    public bool TryGet(string id, out Authorization authorization) => _read.TryGetValue(id, out authorization!);

    /// <summary>Whether the row had this status when it was read or last written.</summary>
    public bool StoredStatusIs(string id, out string? status) => _storedStatus.TryGetValue(id, out status);

    /// <summary>Remembers a row as read from (or just written to) the database.</summary>
    public void Remember(Authorization authorization)
    {
        _read[authorization.Id!] = authorization;
        _storedStatus[authorization.Id!] = authorization.Status;
    }

    /// <summary>
    /// Remembers a row read beside one of its tokens, unless this request already holds that authorization: the entity
    /// held may be the one this request changes, and OpenIddict keeps working on it.
    /// </summary>
    public void RememberIfNew(Authorization authorization)
    {
        if (!_read.ContainsKey(authorization.Id!)) Remember(authorization);
    }

    public void Forget(string id)
    {
        _read.Remove(id);
        _storedStatus.Remove(id);
    }

    /// <summary>Bulk revocations change rows behind the remembered entities.</summary>
    public void Clear()
    {
        _read.Clear();
        _storedStatus.Clear();
    }
}
