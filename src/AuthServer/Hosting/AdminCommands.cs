using AuthServer.Clients;

namespace AuthServer.Hosting;

/// <summary>
/// Operator commands run instead of the server:
/// <c>hash-secret</c> prints a new client secret and the hash to put in <c>Clients:&lt;id&gt;:SecretHashes</c>;
/// <c>rotate-keys</c> makes the next signing keys current at once;
/// <c>create-admin &lt;email&gt;</c> creates (or promotes) an administrator, reading the password from standard input
/// so it never appears in the process list or shell history.
/// </summary>
public static class AdminCommands
{
    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "hash-secret":
                var secret = ClientSecretHasher.NewSecret();
                Console.WriteLine($"secret: {secret}");
                Console.WriteLine($"hash:   {ClientSecretHasher.Hash(secret)}");
                return true;

            case "rotate-keys":
                await app.InitializeAuthServerAsync();
                await app.Services.GetRequiredService<Tokens.SigningKeyStore>().RotateNowAsync();
                Console.WriteLine("Rotated: the next keys sign from now on; the previous ones stay published until their tokens expire.");
                return true;

            case "create-admin" when args.Length == 2:
                await app.InitializeAuthServerAsync();
                Environment.ExitCode = await CreateAdminAsync(app.Services, args[1], Console.In.ReadLine() ?? "");
                return true;

            case "create-admin":
                Console.Error.WriteLine("usage: echo \"$PASSWORD\" | AuthServer create-admin <email>");
                Environment.ExitCode = 2;
                return true;

            default:
                return false;
        }
    }

    public static async Task<int> CreateAdminAsync(IServiceProvider root, string email, string password)
    {
        await using var scope = root.CreateAsyncScope();
        var errors = await AdminAccess.EnsureAdminAsync(scope.ServiceProvider, email, password);
        if (errors.Count > 0)
        {
            Console.Error.WriteLine(string.Join(Environment.NewLine, errors));
            return 1;
        }
        Console.WriteLine($"{email} is an administrator.");
        return 0;
    }
}
