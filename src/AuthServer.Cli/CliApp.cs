using System.CommandLine;
using AuthServer.Cli.Commands;

namespace AuthServer.Cli;

/// <summary>The command tree: every command, its options, and how failures become exit codes.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellation = default)
    {
        var json = new Option<bool>("--json") { Description = "Machine-readable JSON output", Recursive = true };
        var server = new Option<string>("--server", "-s") { Description = "The AuthServer's URL (its issuer), e.g. https://login.example.com" };
        var requiredServer = new Option<string>("--server", "-s") { Description = server.Description, Required = true };
        var clientId = new Option<string>("--client", "-c") { Description = "The client id, registered for the device flow" };

        var root = new RootCommand("Sign in to an AuthServer by scanning a QR code with your phone.");
        root.Options.Add(json);

        var loginClient = new Option<string>("--client", "-c") { Description = clientId.Description, DefaultValueFactory = _ => LoginCommand.DefaultClient };
        var scope = new Option<string>("--scope") { Description = "The scopes to ask for, space-separated", DefaultValueFactory = _ => LoginCommand.DefaultScope };
        var deviceName = new Option<string>("--device-name") { Description = "The name the phone and the device list show for this terminal" };
        var poll = new Option<bool>("--poll") { Description = "Poll the token endpoint instead of following the push stream" };
        var noRotate = new Option<bool>("--no-rotate") { Description = "Keep one code until it expires instead of replacing it" };
        var timeout = new Option<int>("--timeout") { Description = "Give up after this many seconds", DefaultValueFactory = _ => 600 };
        var login = new Command("login", "Sign in: shows a QR code to scan with your phone") { requiredServer, loginClient, scope, deviceName, poll, noRotate, timeout };
        login.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
        {
            var seconds = result.GetValue(timeout);
            if (seconds is < 1 or > 86400) throw CliException.Usage("--timeout must be between 1 and 86400 seconds.");
            return new LoginCommand(context, new LoginOptions(result.GetValue(requiredServer)!, result.GetValue(loginClient)!, result.GetValue(scope)!,
                result.GetValue(deviceName), result.GetValue(poll), !result.GetValue(noRotate), TimeSpan.FromSeconds(seconds), result.GetValue(json))).RunAsync(ct);
        }));

        var token = new Command("token", "Print a fresh access token (refreshed when needed), for $(authserver token)") { server, clientId };
        token.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            SessionCommands.TokenAsync(context, result.GetValue(server), result.GetValue(clientId), result.GetValue(json), ct)));

        var logout = new Command("logout", "Revoke the login on the server and forget it") { server, clientId };
        logout.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            SessionCommands.LogoutAsync(context, result.GetValue(server), result.GetValue(clientId), result.GetValue(json), ct)));

        var status = new Command("status", "Show who is signed in, where, and until when") { server };
        status.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            Task.FromResult(SessionCommands.Status(context, result.GetValue(server), result.GetValue(json)))));

        root.Subcommands.Add(login);
        root.Subcommands.Add(token);
        root.Subcommands.Add(logout);
        root.Subcommands.Add(status);
        root.Subcommands.Add(PhoneCommand(context, json, server, requiredServer));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var output = context.Output(parsed.GetValue(json));
            foreach (var error in parsed.Errors)
                output.Failure(CliException.Usage(error.Message, "Run `authserver --help` for the commands and options."));
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellation);
    }

    private static Command PhoneCommand(CliContext context, Option<bool> json, Option<string> server, Option<string> requiredServer)
    {
        var phone = new Command("phone", "Act as the signed-in phone app: scan, approve, deny, linked devices");

        var deviceName = new Option<string>("--device-name") { Description = "The name of this phone in the account's device list" };
        var noBrowser = new Option<bool>("--no-browser") { Description = "Print the sign-in URL without opening a browser" };
        var login = new Command("login", "Sign in as the phone app, in your browser") { requiredServer, deviceName, noBrowser };
        login.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).LoginAsync(result.GetValue(requiredServer)!, result.GetValue(deviceName), !result.GetValue(noBrowser), ct)));

        Argument<string> Code() => new("code") { Description = "The code the screen shows, or the URL its QR code holds" };
        var scanCode = Code();
        var scan = new Command("scan", "Scan a code: show who is asking, and on a terminal ask whether to approve") { scanCode, server };
        scan.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).ScanAsync(result.GetValue(server), result.GetValue(scanCode)!, ct)));

        var approveCode = Code();
        var number = new Option<int?>("--number") { Description = "Number matching: the number the screen shows" };
        var approve = new Command("approve", "Scan a code and approve the sign-in") { approveCode, number, server };
        approve.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).DecideAsync(result.GetValue(server), result.GetValue(approveCode)!, true, result.GetValue(number), ct)));

        var denyCode = Code();
        var deny = new Command("deny", "Scan a code and deny the sign-in") { denyCode, server };
        deny.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).DecideAsync(result.GetValue(server), result.GetValue(denyCode)!, false, null, ct)));

        var devices = new Command("devices", "List the account's signed-in devices") { server };
        devices.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).DevicesAsync(result.GetValue(server), ct)));

        var device = new Argument<string>("device") { Description = "The device id, from `authserver phone devices`" };
        var logout = new Command("logout", "Log a device of the account out") { device, server };
        logout.SetAction((result, ct) => Guard(context, result.GetValue(json), () =>
            new PhoneCommands(context, result.GetValue(json)).LogoutDeviceAsync(result.GetValue(server), result.GetValue(device)!, ct)));

        phone.Subcommands.Add(login);
        phone.Subcommands.Add(scan);
        phone.Subcommands.Add(approve);
        phone.Subcommands.Add(deny);
        phone.Subcommands.Add(devices);
        phone.Subcommands.Add(logout);
        return phone;
    }

    /// <summary>Runs a command; a <see cref="CliException"/> becomes its message and exit code, Ctrl-C becomes 130.</summary>
    private static async Task<int> Guard(CliContext context, bool json, Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (CliException failure)
        {
            context.Output(json).Failure(failure);
            return failure.ExitCode;
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine();
            context.Error.WriteLine("Interrupted.");
            return ExitCodes.Interrupted;
        }
    }
}
