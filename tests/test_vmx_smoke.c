/* Verifies the VMX fixture itself: the known-good configuration enters on every profile, so each
 * entry test's failure can only come from the one field it breaks. */
#include <criterion/criterion.h>

#include "test_vmx_fixture.h"

Test(vmx_fixture, known_good_config_enters_on_every_profile)
{
	for (const char *const *n = vmx_profile_names(); *n; n++) {
		struct vfx x;

		vfx_init(&x, *n);
		vfx_expect_entered(&x, *n);
		vfx_fini(&x);
	}
}
