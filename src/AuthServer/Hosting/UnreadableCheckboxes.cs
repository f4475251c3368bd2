using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.ModelBinding.Binders;

namespace AuthServer.Hosting;

/// <summary>
/// A checkbox posted with a value that is not a boolean (<c>Input.RememberMe=abc</c>) is a validation error like any
/// other, but MVC keeps the raw value for the page to show again, and the checkbox tag helper converts it back to a
/// boolean while rendering, which throws: the page answered 500 instead of showing itself again. This binder keeps
/// the error and forgets the raw value, so the checkbox is drawn from the model (unchecked) and the page renders.
/// </summary>
public static class UnreadableCheckboxes
{
    public static void AreUnchecked(MvcOptions options) => options.ModelBinderProviders.Insert(0, new Provider());

    private sealed class Provider : IModelBinderProvider
    {
        public IModelBinder? GetBinder(ModelBinderProviderContext context) =>
            context.Metadata.UnderlyingOrModelType == typeof(bool)
                ? new Binder(new SimpleTypeModelBinder(context.Metadata.ModelType, context.Services.GetRequiredService<ILoggerFactory>()))
                : null;
    }

    private sealed class Binder(IModelBinder inner) : IModelBinder
    {
        public async Task BindModelAsync(ModelBindingContext binding)
        {
            await inner.BindModelAsync(binding);
            if (binding.ModelState.TryGetValue(binding.ModelName, out var entry) && entry.Errors.Count > 0 && entry.RawValue is not null)
                binding.ModelState.SetModelValue(binding.ModelName, rawValue: null, entry.AttemptedValue);
        }
    }
}
