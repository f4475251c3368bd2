using AuthServer.Areas.Identity;
using AuthServer.Localization;
using Microsoft.Extensions.Localization;
using System.ComponentModel.DataAnnotations;
using AuthServer.Data;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Pages.Admin.Users;

/// <summary>A new account, with a password the admin gives its owner; Identity's password rules apply.</summary>
public sealed class CreateModel(AuthServerDbContext db, UserManager<ApplicationUser> users, RoleManager<IdentityRole> roles, TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    public sealed class InputModel
    {
        [Required, EmailAddress, StringLength(256)]
        public string Email { get; set; } = "";

        [StringLength(100)]
        public string? DisplayName { get; set; }

        [Required, DataType(DataType.Password)]
        public string Password { get; set; } = "";

        public List<string> Roles { get; set; } = [];
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public IReadOnlyList<string> AllRoles { get; private set; } = [];

    public async Task OnGetAsync() => AllRoles = await RoleNamesAsync(roles);

    internal static Task<List<string>> RoleNamesAsync(RoleManager<IdentityRole> roles) =>
        roles.Roles.Select(r => r.Name!).OrderBy(n => n).ToListAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        AllRoles = await RoleNamesAsync(roles);
        foreach (var role in Input.Roles.Where(r => !AllRoles.Contains(r)))
            ModelState.AddModelError("Input.Roles", text["There is no role '{0}'.", role]);
        if (!ModelState.IsValid) return Page();

        var email = Input.Email.Trim();
        var user = new ApplicationUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = Input.DisplayName?.Trim() is { Length: > 0 } name ? name : null };
        var refusal = await AdminChange.RunAsync(db, async () =>
        {
            if (!await NewAccounts.TryCreateAsync(users, user, Input.Password, ModelState)) return "Identity refused the account.";
            if (Input.Roles.Count > 0) await users.AddToRolesAsync(user, Input.Roles);
            Data.Audit.Add(db, Data.Audit.UserCreated, clock.GetUtcNow(), user.Id, null,
                $"Created {email}{(Input.Roles.Count > 0 ? " with the roles " + string.Join(", ", Input.Roles) : "")}.");
            return null;
        }, HttpContext.RequestAborted);
        if (refusal is not null) return Page();
        return Redirect($"/admin/users/{user.Id}?created=true");
    }
}
