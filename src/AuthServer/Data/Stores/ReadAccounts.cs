using AuthServer.Data.Entities;

namespace AuthServer.Data.Stores;

/// <summary>
/// The accounts read in this request beside a token (scoped, like <see cref="ReadAuthorizations"/>). A token is read
/// with the account its subject names in the same statement (<see cref="TokenStore"/>), and the approval and the token
/// endpoint, which check that account again before they issue anything (<see cref="Tokens.Accounts"/>), find it here
/// instead of asking the database a second time within the request. It is the row as it was when this request read its
/// token: a lockout or deletion committed before that is seen, one committed after it orders after this request.
/// </summary>
public sealed class ReadAccounts
{
    private readonly Dictionary<string, ApplicationUser> _read = new(StringComparer.Ordinal);

    public bool TryGet(string id, out ApplicationUser account) => _read.TryGetValue(id, out account!);

    public void Remember(ApplicationUser account) => _read[account.Id] = account;
}
