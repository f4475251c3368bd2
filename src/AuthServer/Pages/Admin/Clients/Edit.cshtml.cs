using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace AuthServer.Pages.Admin.Clients;

/// <summary>
/// One client: edit it, disable or enable it, delete it, rotate its secret. Every change goes through OpenIddict's
/// application manager, commits with its audit event, and is then loaded into <see cref="ClientStore"/>.
/// </summary>
/// <remarks>
/// Two admins editing one client: each form carries the application's concurrency token as it was read. A save whose
/// token no longer matches is refused and shown side by side with what was saved meanwhile, the admin's own input
/// still in the form; saving again then overwrites deliberately. The token is also the update's condition in the
/// database, so a save that lands between the check and the write is refused the same way.
/// </remarks>
public sealed class EditModel(
    AuthServerDbContext db, IOpenIddictApplicationManager applications, ClientStore clients, ScopeCatalog scopes,
    IConfiguration configuration, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(30);

    [BindProperty(SupportsGet = true)]
    public string ClientId { get; set; } = "";

    [BindProperty]
    public ClientInput Input { get; set; } = new();

    /// <summary>The application's concurrency token when this form was filled in.</summary>
    [BindProperty]
    public string? ConcurrencyToken { get; set; }

    /// <summary>How long the previous secret keeps working after a rotation.</summary>
    [BindProperty]
    public string Overlap { get; set; } = "1.00:00:00";

    /// <summary>The client id, typed again to confirm a deletion.</summary>
    [BindProperty]
    public string? ConfirmDelete { get; set; }

    public sealed record SecretRow(string Fingerprint, DateTimeOffset? Until);

    public sealed record Difference(string Label, string Saved, string Yours);

    /// <summary>The client as the database holds it now.</summary>
    public Client? Saved { get; private set; }
    public bool IsConfigured { get; private set; }
    public IReadOnlyList<SecretRow> Secrets { get; private set; } = [];
    public IReadOnlyList<Difference> Conflict { get; private set; } = [];
    public string? NewSecret { get; private set; }
    public string? Result { get; private set; }
    public string? Problem { get; private set; }
    public IEnumerable<string> AllScopes => scopes.Names;

    private CancellationToken Aborted => HttpContext.RequestAborted;

    private string? _currentToken;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync(fillForm: true)) return Missing();
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync()
    {
        if (!await LoadAsync(fillForm: false)) return Missing();
        Input.ClientId = ClientId;
        var definition = Input.ToDefinition(ModelState, nameof(Input), scopes, disabled: Saved!.Disabled);
        if (definition is null) return Page();
        var changed = Input.ChangedFrom(ClientInput.From(Saved));
        if (changed.Count == 0)
        {
            Result = "Nothing changed.";
            return Page();
        }
        return await UpdateAsync(definition, Data.Audit.ClientUpdated, $"Changed: {string.Join(", ", changed)}.", "Saved.");
    }

    public async Task<IActionResult> OnPostDisableAsync() => await ToggleAsync(disable: true);

    public async Task<IActionResult> OnPostEnableAsync() => await ToggleAsync(disable: false);

    private async Task<IActionResult> ToggleAsync(bool disable)
    {
        if (!await LoadAsync(fillForm: true)) return Missing();
        var definition = ClientInput.From(Saved!).ToDefinition(ModelState, nameof(Input), scopes, disable);
        if (definition is null) return Page();
        return disable
            ? await UpdateAsync(definition, Data.Audit.ClientDisabled, "Disabled: every endpoint refuses it; its registration is kept.",
                "Disabled. Every endpoint now refuses this client; tokens it already holds stop at their refresh.")
            : await UpdateAsync(definition, Data.Audit.ClientEnabled, "Enabled again.", "Enabled.");
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (!await LoadAsync(fillForm: true)) return Missing();
        if (IsConfigured)
        {
            Problem = "This client is declared in appsettings.json, so start-up would register it again. Remove it from the configuration first.";
            return Page();
        }
        if (ConfirmDelete?.Trim() != ClientId)
        {
            ModelState.AddModelError(nameof(ConfirmDelete), "Type the client id to confirm.");
            return Page();
        }
        Problem = await AdminChange.RunAsync(db, async () =>
        {
            var application = await TrackedAsync();
            if (application is null) return "The client was already deleted.";
            // OpenIddict deletes the application's authorizations (its linked devices) and tokens with it.
            await applications.DeleteAsync(application, Aborted);
            Data.Audit.Add(db, Data.Audit.ClientDeleted, clock.GetUtcNow(), null, ClientId, $"Deleted {Saved!.DisplayName} ({ClientId}) with its linked devices and tokens.");
            return null;
        }, Aborted);
        if (Problem is not null) return Page();
        await clients.ReloadAsync(Aborted);
        return Redirect($"/admin/clients?deleted={Uri.EscapeDataString(ClientId)}");
    }

    public async Task<IActionResult> OnPostRotateSecretAsync()
    {
        if (!await LoadAsync(fillForm: true)) return Missing();
        if (SecretsRefusal() is { } refusal)
        {
            Problem = refusal;
            return Page();
        }
        if (!ClientInput.TryParseTime(Overlap, out var overlap) || overlap < TimeSpan.Zero || overlap > MaxOverlap)
        {
            ModelState.AddModelError(nameof(Overlap), "Write the overlap as hh:mm:ss or d.hh:mm:ss, at most 30 days (00:00:00 ends the old secret at once).");
            return Page();
        }
        var secret = ClientSecretHasher.NewSecret();
        var now = clock.GetUtcNow();
        Problem = await AdminChange.RunAsync(db, async () =>
        {
            var application = await TrackedAsync();
            if (application is null) return "The client was deleted meanwhile.";
            var settings = await applications.GetSettingsAsync(application, Aborted);
            var (hashes, retiring) = ClientSecrets.Rotate(ClientSecretHasher.Hash(secret), application.ClientSecret, settings, now, overlap);
            await SetSecretsAsync(application, hashes, retiring);
            Data.Audit.Add(db, Data.Audit.ClientSecretRotated, now, null, ClientId, overlap > TimeSpan.Zero
                ? $"New secret {ClientSecrets.Fingerprint(ClientSecretHasher.Hash(secret))}; the previous ones work until {now + overlap:yyyy-MM-dd HH:mm:ss} UTC."
                : $"New secret {ClientSecrets.Fingerprint(ClientSecretHasher.Hash(secret))}; the previous ones stopped working at once.");
            return null;
        }, Aborted);
        if (Problem is not null) return Page();
        await clients.ReloadAsync(Aborted);
        ModelState.Clear();
        NewSecret = secret;
        Response.Headers.CacheControl = "no-store";
        Result = overlap > TimeSpan.Zero
            ? text["A new secret is made. The previous one keeps working until {0} UTC, then is refused.", (now + overlap).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)]
            : text["A new secret is made. The previous one no longer works."];
        await LoadAsync(fillForm: true);
        return Page();
    }

    public async Task<IActionResult> OnPostRetireOldSecretsAsync()
    {
        if (!await LoadAsync(fillForm: true)) return Missing();
        if (SecretsRefusal() is { } refusal)
        {
            Problem = refusal;
            return Page();
        }
        Problem = await AdminChange.RunAsync(db, async () =>
        {
            var application = await TrackedAsync();
            if (application is null) return "The client was deleted meanwhile.";
            var settings = await applications.GetSettingsAsync(application, Aborted);
            var newest = ClientSecrets.RetireOld(application.ClientSecret, settings, clock.GetUtcNow());
            if (newest == application.ClientSecret) return "Only the newest secret works already.";
            await SetSecretsAsync(application, newest, retiring: null);
            Data.Audit.Add(db, Data.Audit.ClientSecretRetired, clock.GetUtcNow(), null, ClientId,
                $"Only secret {ClientSecrets.Fingerprint(newest)} works now; the overlap was ended early.");
            return null;
        }, Aborted);
        if (Problem is null)
        {
            Result = "The previous secrets no longer work.";
            ModelState.Clear();
        }
        await LoadAsync(fillForm: true);
        return Page();
    }

    /// <summary>Why this client's secrets cannot be rotated here, or null.</summary>
    private string? SecretsRefusal() =>
        IsConfigured ? "This client's secrets are in appsettings.json (SecretHashes), which start-up applies again: rotate them there, with hash-secret."
        : Saved!.Type != ClientType.Confidential ? "A public client has no secret."
        : null;

    private async Task SetSecretsAsync(Application application, string hashes, string? retiring)
    {
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, Aborted);
        descriptor.ClientSecret = hashes;
        if (retiring is null) descriptor.Settings.Remove(ClientSettings.RetiringSecrets);
        else descriptor.Settings[ClientSettings.RetiringSecrets] = retiring;
        await applications.UpdateAsync(application, descriptor, Aborted);
    }

    private async Task<IActionResult> UpdateAsync(ClientDefinition definition, string auditType, string detail, string done)
    {
        var conflict = false;
        string? secret = null;
        Problem = await AdminChange.RunAsync(db, async () =>
        {
            var application = await TrackedAsync();
            if (application is null) return "The client was deleted meanwhile.";
            if (application.ConcurrencyToken != ConcurrencyToken)
            {
                conflict = true;
                return "conflict";
            }
            var settings = await applications.GetSettingsAsync(application, Aborted);
            if (definition.Type == ClientType.Confidential)
            {
                if (Saved!.Type == ClientType.Confidential) definition.SecretHashes = [.. ClientSecrets.Hashes(application.ClientSecret)];
                else
                {
                    // Made confidential: it needs a secret, made here like any other.
                    secret = ClientSecretHasher.NewSecret();
                    definition.SecretHashes = [ClientSecretHasher.Hash(secret)];
                }
            }
            var descriptor = ClientSeeder.Describe(ClientId, definition);
            if (definition.Type == ClientType.Confidential && settings.TryGetValue(ClientSettings.RetiringSecrets, out var retiring))
                descriptor.Settings[ClientSettings.RetiringSecrets] = retiring;
            // The database applies the update only while the token is the one this form was filled in with.
            db.Entry(application).Property(a => a.ConcurrencyToken).OriginalValue = ConcurrencyToken;
            try
            {
                await applications.UpdateAsync(application, descriptor, Aborted);
            }
            catch (OpenIddictExceptions.ConcurrencyException)
            {
                conflict = true;
                return "conflict";
            }
            Data.Audit.Add(db, auditType, clock.GetUtcNow(), null, ClientId, detail);
            return null;
        }, Aborted);

        if (conflict)
        {
            await LoadAsync(fillForm: false);
            ShowConflict();
            // The next save is made knowing what is saved now, so it carries the current token.
            ModelState.Remove(nameof(ConcurrencyToken));
            ConcurrencyToken = _currentToken;
            return Page();
        }
        if (Problem is not null) return Page();
        await clients.ReloadAsync(Aborted);
        ModelState.Clear();
        await LoadAsync(fillForm: true);
        Result = done;
        if (secret is not null)
        {
            NewSecret = secret;
            Response.Headers.CacheControl = "no-store";
        }
        return Page();
    }

    /// <summary>What was saved meanwhile beside this admin's input, which stays in the form; the next save overwrites.</summary>
    private void ShowConflict()
    {
        var saved = ClientInput.From(Saved!).Fields().ToList();
        Conflict = [.. saved.Zip(Input.Fields()).Where(p => p.First.Value != p.Second.Value)
            .Select(p => new Difference(p.First.Label, p.First.Value, p.Second.Value))];
        Problem = "Someone else saved this client while you were editing it, so your changes are not saved yet. They are still in the form below; " +
            "compare them with what is saved now, then save again to keep yours.";
    }

    /// <summary>The application, tracked by this request's context, fresh from the database.</summary>
    private Task<Application?> TrackedAsync() => db.Applications.FirstOrDefaultAsync(a => a.ClientId == ClientId, Aborted);

    /// <summary>Reads the client as saved now (not from any cache), and with <paramref name="fillForm"/> puts it in the form.</summary>
    private async Task<bool> LoadAsync(bool fillForm)
    {
        var application = await db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.ClientId == ClientId, Aborted);
        if (application is null) return false;
        Saved = await ClientStore.ReadAsync(applications, application, Aborted);
        IsConfigured = ClientSeeder.ConfiguredIds(configuration).Contains(ClientId);
        var settings = await applications.GetSettingsAsync(application, Aborted);
        var retiring = ClientSecrets.RetiringOf(settings).ToDictionary(r => r.Hash, r => r.Until, StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        Secrets = [.. ClientSecrets.Live(application.ClientSecret, settings, now)
            .Select(h => new SecretRow(ClientSecrets.Fingerprint(h), retiring.TryGetValue(h, out var until) ? until : null))];
        _currentToken = application.ConcurrencyToken;
        if (fillForm)
        {
            Input = ClientInput.From(Saved!);
            ConcurrencyToken = application.ConcurrencyToken;
        }
        return true;
    }

    private IActionResult Missing()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
